;; LeakyRelu over float32 tensors on the tfjs wasm backend's heap
;; (elementwise_kernels.ts), four values at a time: each widened to float64,
;; max(v, 0) + α·min(v, 0) in float64, narrowed to float32 — the JavaScript
;; loop's (v + |v|)/2 + (α/2)·(v − |v|) to the bit (both are one float64
;; product and an exact sum; ±∞ and NaN come out as the stock kernel's).
;; x, y: byte offsets into the imported memory; n: values, a multiple of 4.
;;
;; leaky_relu_grad (its gradient, P2pLeakyReluGrad): dx = x > 0 ? dy : dy·α
;; in float32 (α rounded to float32: tfjs's Greater / Multiply / Select).
;;
;; Built by build_leaky_relu.ts (wabt) into leaky_relu_wasm.ts, twice: as
;; written here, and with the memory import declared
;; `(memory 0 65536 shared)` for tfjs-wasm's threaded build.
(module
  (import "env" "memory" (memory 0))
  (func (export "leaky_relu")
    (param $x i32) (param $y i32) (param $n i32) (param $alpha f64)
    (local $i i32) (local $end i32) (local $v v128)
    (local $a v128) (local $z v128) (local $lo v128) (local $hi v128)
    (local.set $a (f64x2.splat (local.get $alpha)))
    (local.set $z (f64x2.splat (f64.const 0)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
            (local.get $v) (local.get $v))))
        (local.set $lo (f64x2.add
          (f64x2.max (local.get $lo) (local.get $z))
          (f64x2.mul (local.get $a) (f64x2.min (local.get $lo) (local.get $z)))))
        (local.set $hi (f64x2.add
          (f64x2.max (local.get $hi) (local.get $z))
          (f64x2.mul (local.get $a) (f64x2.min (local.get $hi) (local.get $z)))))
        (v128.store (i32.add (local.get $y) (local.get $i))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo))
            (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))
  (func (export "leaky_relu_grad")
    (param $dy i32) (param $x i32) (param $dx i32) (param $n i32)
    (param $alpha f32)
    (local $i i32) (local $end i32) (local $a v128) (local $z v128)
    (local $g v128)
    (local.set $a (f32x4.splat (local.get $alpha)))
    (local.set $z (f32x4.splat (f32.const 0)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $g (v128.load (i32.add (local.get $dy) (local.get $i))))
        (v128.store (i32.add (local.get $dx) (local.get $i))
          (v128.bitselect
            (local.get $g)
            (f32x4.mul (local.get $g) (local.get $a))
            (f32x4.gt
              (v128.load (i32.add (local.get $x) (local.get $i)))
              (local.get $z))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))))
