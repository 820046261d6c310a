;; The per-element loops of the wasm batch-norm kernels (batch_norm_heap.ts)
;; as WebAssembly SIMD: two channels at a time in f64x2, the float32 tensors
;; widened to float64 as the JavaScript loops read them, so every channel
;; sees exactly the same float64 operations in the same order (bit-identical
;; results). The channel is the last axis and C is even: a flat pass over n
;; = M·C values walks the channels two by two, wrapping at C. It imports the
;; tfjs wasm backend's own memory; pointers are byte offsets into it (x, y,
;; dy, dx float32; the per-channel arrays float64).
;;
;; stats:      s1[c] += x − k[c];  s2[c] += (x − k[c])²
;; apply:      y = f32(x·scale[c] + shift[c])
;; grad_sums:  sdy[c] += dy;  sdyx[c] += dy·(x − mu[c])
;; grad_apply: dx = f32(a[c]·dy + b[c]·x + d[c])
;;
;; Built by build_batch_norm.ts (wabt) into batch_norm_wasm.ts, twice: as
;; written here, and with the memory import declared
;; `(memory 0 65536 shared)` for tfjs-wasm's threaded build.
(module
  (import "env" "memory" (memory 0))
  (func (export "stats")
    (param $x i32) (param $n i32) (param $c i32)
    (param $k i32) (param $s1 i32) (param $s2 i32)
    (local $i i32) (local $j i32) (local $end i32) (local $cend i32)
    (local $d v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $cend (i32.shl (local.get $c) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $d
          (f64x2.sub
            (f64x2.promote_low_f32x4
              (v128.load64_zero align=4 (i32.add (local.get $x) (local.get $i))))
            (v128.load align=8 (i32.add (local.get $k) (local.get $j)))))
        (v128.store align=8 (i32.add (local.get $s1) (local.get $j))
          (f64x2.add
            (v128.load align=8 (i32.add (local.get $s1) (local.get $j)))
            (local.get $d)))
        (v128.store align=8 (i32.add (local.get $s2) (local.get $j))
          (f64x2.add
            (v128.load align=8 (i32.add (local.get $s2) (local.get $j)))
            (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (if (i32.eq (local.get $j) (local.get $cend))
          (then (local.set $j (i32.const 0))))
        (br $next))))
  (func (export "apply")
    (param $x i32) (param $y i32) (param $n i32) (param $c i32)
    (param $scale i32) (param $shift i32)
    (local $i i32) (local $j i32) (local $end i32) (local $cend i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $cend (i32.shl (local.get $c) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store64_lane align=4 0 (i32.add (local.get $y) (local.get $i))
          (f32x4.demote_f64x2_zero
            (f64x2.add
              (f64x2.mul
                (f64x2.promote_low_f32x4
                  (v128.load64_zero align=4 (i32.add (local.get $x) (local.get $i))))
                (v128.load align=8 (i32.add (local.get $scale) (local.get $j))))
              (v128.load align=8 (i32.add (local.get $shift) (local.get $j))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (if (i32.eq (local.get $j) (local.get $cend))
          (then (local.set $j (i32.const 0))))
        (br $next))))
  (func (export "grad_sums")
    (param $dy i32) (param $x i32) (param $n i32) (param $c i32)
    (param $mu i32) (param $sdy i32) (param $sdyx i32)
    (local $i i32) (local $j i32) (local $end i32) (local $cend i32)
    (local $g v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $cend (i32.shl (local.get $c) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $g
          (f64x2.promote_low_f32x4
            (v128.load64_zero align=4 (i32.add (local.get $dy) (local.get $i)))))
        (v128.store align=8 (i32.add (local.get $sdy) (local.get $j))
          (f64x2.add
            (v128.load align=8 (i32.add (local.get $sdy) (local.get $j)))
            (local.get $g)))
        (v128.store align=8 (i32.add (local.get $sdyx) (local.get $j))
          (f64x2.add
            (v128.load align=8 (i32.add (local.get $sdyx) (local.get $j)))
            (f64x2.mul
              (local.get $g)
              (f64x2.sub
                (f64x2.promote_low_f32x4
                  (v128.load64_zero align=4 (i32.add (local.get $x) (local.get $i))))
                (v128.load align=8 (i32.add (local.get $mu) (local.get $j)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (if (i32.eq (local.get $j) (local.get $cend))
          (then (local.set $j (i32.const 0))))
        (br $next))))
  (func (export "grad_apply")
    (param $dy i32) (param $x i32) (param $dx i32) (param $n i32) (param $c i32)
    (param $a i32) (param $b i32) (param $d i32)
    (local $i i32) (local $j i32) (local $end i32) (local $cend i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $cend (i32.shl (local.get $c) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (v128.store64_lane align=4 0 (i32.add (local.get $dx) (local.get $i))
          (f32x4.demote_f64x2_zero
            (f64x2.add
              (f64x2.add
                (f64x2.mul
                  (v128.load align=8 (i32.add (local.get $a) (local.get $j)))
                  (f64x2.promote_low_f32x4
                    (v128.load64_zero align=4 (i32.add (local.get $dy) (local.get $i)))))
                (f64x2.mul
                  (v128.load align=8 (i32.add (local.get $b) (local.get $j)))
                  (f64x2.promote_low_f32x4
                    (v128.load64_zero align=4 (i32.add (local.get $x) (local.get $i))))))
              (v128.load align=8 (i32.add (local.get $d) (local.get $j))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (if (i32.eq (local.get $j) (local.get $cend))
          (then (local.set $j (i32.const 0))))
        (br $next)))))
