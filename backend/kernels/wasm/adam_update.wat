;; The fused Adam update loop of the `P2pAdamUpdate` kernel, as WebAssembly
;; SIMD (f32x4: four elements an iteration, then a scalar tail). It imports
;; the tfjs wasm backend's own memory, so it works on the tensors where they
;; lie; pointers are byte offsets into that memory (4-byte aligned: tensors
;; need not be 16-byte aligned), n is the element count.
;;
;; For each element i:
;;   mi = m[i]·b1 + g[i]·a1;  vi = v[i]·b2 + g[i]·g[i]·a2
;;   nm[i] = mi;  nv[i] = vi;  np[i] = p[i] − (step·mi) / (√vi·rc + eps)
;; with a1 = 1 − β1, a2 = 1 − β2, step = lr / (1 − β1ᵗ), rc = 1 / √(1 − β2ᵗ).
;;
;; Built by build_adam_update.ts (wabt) into adam_update_wasm.ts, twice: as
;; written here, and with the memory import declared
;; `(memory 0 65536 shared)` for tfjs-wasm's threaded build.
(module
  (import "env" "memory" (memory 0))
  (func (export "adam")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32)
    (param $np i32) (param $nm i32) (param $nv i32) (param $n i32)
    (param $b1 f32) (param $a1 f32) (param $b2 f32) (param $a2 f32)
    (param $step f32) (param $rc f32) (param $eps f32)
    (local $i i32) (local $end i32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $B1 v128) (local $A1 v128) (local $B2 v128) (local $A2 v128)
    (local $S v128) (local $RC v128) (local $E v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $A1 (f32x4.splat (local.get $a1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $A2 (f32x4.splat (local.get $a2)))
    (local.set $S (f32x4.splat (local.get $step)))
    (local.set $RC (f32x4.splat (local.get $rc)))
    (local.set $E (f32x4.splat (local.get $eps)))
    ;; Four at a time, up to the last multiple of four elements.
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $mv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $i))) (local.get $B1))
            (f32x4.mul (local.get $gv) (local.get $A1))))
        (local.set $vv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $i))) (local.get $B2))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $A2))))
        (v128.store align=4 (i32.add (local.get $nm) (local.get $i)) (local.get $mv))
        (v128.store align=4 (i32.add (local.get $nv) (local.get $i)) (local.get $vv))
        (v128.store align=4 (i32.add (local.get $np) (local.get $i))
          (f32x4.sub
            (v128.load align=4 (i32.add (local.get $p) (local.get $i)))
            (f32x4.div
              (f32x4.mul (local.get $S) (local.get $mv))
              (f32x4.add
                (f32x4.mul (f32x4.sqrt (local.get $vv)) (local.get $RC))
                (local.get $E)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $simd)))
    ;; The remaining zero to three elements.
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $ms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
            (f32.mul (local.get $gs) (local.get $a1))))
        (local.set $vs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $a2))))
        (f32.store (i32.add (local.get $nm) (local.get $i)) (local.get $ms))
        (f32.store (i32.add (local.get $nv) (local.get $i)) (local.get $vs))
        (f32.store (i32.add (local.get $np) (local.get $i))
          (f32.sub
            (f32.load (i32.add (local.get $p) (local.get $i)))
            (f32.div
              (f32.mul (local.get $step) (local.get $ms))
              (f32.add
                (f32.mul (f32.sqrt (local.get $vs)) (local.get $rc))
                (local.get $eps)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail)))))
