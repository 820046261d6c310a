;; Tanh over float32 tensors on the tfjs wasm backend's heap
;; (`tanhFast` in elementwise_kernels.ts), four values at a time, each
;; widened to float64: Eigen's rational approximation x·P(x²)/Q(x²) with the
;; JavaScript loop's coefficients and order of operations where
;; 4e-4 ≤ |x| < 7.9 (so the very bits it gives), x itself below 4e-4, and
;; ±1 from |x| ≥ 9.02 (where float32 tanh is ±1: 1 − tanh x < 2⁻²⁵ from
;; 13·ln 2). Values in [7.9, 9.02) and NaN are left to the caller, which
;; redoes them with Math.tanh: the function returns how many there were.
;; x, y: byte offsets into the imported memory; n: values, a multiple of 4.
;;
;; Built by build_tanh_simd.ts (wabt) into tanh_simd_wasm.ts, twice: as
;; written here, and with the memory import declared
;; `(memory 0 65536 shared)` for tfjs-wasm's threaded build.
(module
  (import "env" "memory" (memory 0))
  (func (export "tanh") (param $x i32) (param $y i32) (param $n i32)
    (result i32)
    (local $i i32) (local $end i32) (local $v v128) (local $redo v128)
    (local $lo v128) (local $v2lo v128) (local $tlo v128) (local $qlo v128)
    (local $alo v128) (local $biglo v128)
    (local $hi v128) (local $v2hi v128) (local $thi v128) (local $qhi v128)
    (local $ahi v128) (local $bighi v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
            (local.get $v) (local.get $v))))
        ;; x·P(x²)/Q(x²) as tanhFast evaluates it; x below 4e-4; ±1 from
        ;; 9.02; the lanes in neither [0, 7.9) nor [9.02, ∞] counted.
        (local.set $v2lo (f64x2.mul (local.get $lo) (local.get $lo)))
        (local.set $tlo (f64x2.add (v128.const f64x2 2.00018790482477e-13 2.00018790482477e-13)
          (f64x2.mul (local.get $v2lo) (v128.const f64x2 -2.76076847742355e-16 -2.76076847742355e-16))))
        (local.set $tlo (f64x2.add (v128.const f64x2 -8.60467152213735e-11 -8.60467152213735e-11)
          (f64x2.mul (local.get $v2lo) (local.get $tlo))))
        (local.set $tlo (f64x2.add (v128.const f64x2 5.12229709037114e-08 5.12229709037114e-08)
          (f64x2.mul (local.get $v2lo) (local.get $tlo))))
        (local.set $tlo (f64x2.add (v128.const f64x2 1.48572235717979e-05 1.48572235717979e-05)
          (f64x2.mul (local.get $v2lo) (local.get $tlo))))
        (local.set $tlo (f64x2.add (v128.const f64x2 6.37261928875436e-04 6.37261928875436e-04)
          (f64x2.mul (local.get $v2lo) (local.get $tlo))))
        (local.set $tlo (f64x2.add (v128.const f64x2 4.89352455891786e-03 4.89352455891786e-03)
          (f64x2.mul (local.get $v2lo) (local.get $tlo))))
        (local.set $qlo (f64x2.add (v128.const f64x2 1.18534705686654e-04 1.18534705686654e-04)
          (f64x2.mul (local.get $v2lo) (v128.const f64x2 1.19825839466702e-06 1.19825839466702e-06))))
        (local.set $qlo (f64x2.add (v128.const f64x2 2.26843463243900e-03 2.26843463243900e-03)
          (f64x2.mul (local.get $v2lo) (local.get $qlo))))
        (local.set $qlo (f64x2.add (v128.const f64x2 4.89352518554385e-03 4.89352518554385e-03)
          (f64x2.mul (local.get $v2lo) (local.get $qlo))))
        (local.set $alo (f64x2.abs (local.get $lo)))
        (local.set $biglo (f64x2.ge (local.get $alo) (v128.const f64x2 9.02 9.02)))
        (local.set $redo (i64x2.sub (local.get $redo) (v128.not (v128.or
          (f64x2.lt (local.get $alo) (v128.const f64x2 7.9 7.9))
          (local.get $biglo)))))
        (local.set $lo (v128.bitselect
          (v128.or
            (v128.and (local.get $lo) (v128.const i64x2 0x8000000000000000 0x8000000000000000))
            (v128.const f64x2 1 1))
          (v128.bitselect
            (local.get $lo)
            (f64x2.div (f64x2.mul (local.get $lo) (local.get $tlo)) (local.get $qlo))
            (f64x2.lt (local.get $alo) (v128.const f64x2 4e-4 4e-4)))
          (local.get $biglo)))
        (local.set $v2hi (f64x2.mul (local.get $hi) (local.get $hi)))
        (local.set $thi (f64x2.add (v128.const f64x2 2.00018790482477e-13 2.00018790482477e-13)
          (f64x2.mul (local.get $v2hi) (v128.const f64x2 -2.76076847742355e-16 -2.76076847742355e-16))))
        (local.set $thi (f64x2.add (v128.const f64x2 -8.60467152213735e-11 -8.60467152213735e-11)
          (f64x2.mul (local.get $v2hi) (local.get $thi))))
        (local.set $thi (f64x2.add (v128.const f64x2 5.12229709037114e-08 5.12229709037114e-08)
          (f64x2.mul (local.get $v2hi) (local.get $thi))))
        (local.set $thi (f64x2.add (v128.const f64x2 1.48572235717979e-05 1.48572235717979e-05)
          (f64x2.mul (local.get $v2hi) (local.get $thi))))
        (local.set $thi (f64x2.add (v128.const f64x2 6.37261928875436e-04 6.37261928875436e-04)
          (f64x2.mul (local.get $v2hi) (local.get $thi))))
        (local.set $thi (f64x2.add (v128.const f64x2 4.89352455891786e-03 4.89352455891786e-03)
          (f64x2.mul (local.get $v2hi) (local.get $thi))))
        (local.set $qhi (f64x2.add (v128.const f64x2 1.18534705686654e-04 1.18534705686654e-04)
          (f64x2.mul (local.get $v2hi) (v128.const f64x2 1.19825839466702e-06 1.19825839466702e-06))))
        (local.set $qhi (f64x2.add (v128.const f64x2 2.26843463243900e-03 2.26843463243900e-03)
          (f64x2.mul (local.get $v2hi) (local.get $qhi))))
        (local.set $qhi (f64x2.add (v128.const f64x2 4.89352518554385e-03 4.89352518554385e-03)
          (f64x2.mul (local.get $v2hi) (local.get $qhi))))
        (local.set $ahi (f64x2.abs (local.get $hi)))
        (local.set $bighi (f64x2.ge (local.get $ahi) (v128.const f64x2 9.02 9.02)))
        (local.set $redo (i64x2.sub (local.get $redo) (v128.not (v128.or
          (f64x2.lt (local.get $ahi) (v128.const f64x2 7.9 7.9))
          (local.get $bighi)))))
        (local.set $hi (v128.bitselect
          (v128.or
            (v128.and (local.get $hi) (v128.const i64x2 0x8000000000000000 0x8000000000000000))
            (v128.const f64x2 1 1))
          (v128.bitselect
            (local.get $hi)
            (f64x2.div (f64x2.mul (local.get $hi) (local.get $thi)) (local.get $qhi))
            (f64x2.lt (local.get $ahi) (v128.const f64x2 4e-4 4e-4)))
          (local.get $bighi)))
        (v128.store (i32.add (local.get $y) (local.get $i))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo))
            (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (i32.wrap_i64 (i64.add
      (i64x2.extract_lane 0 (local.get $redo))
      (i64x2.extract_lane 1 (local.get $redo)))))
)
