;; col2im's scatter-add (`col2imAdd` in im2col.ts) in WebAssembly: the
;; patch rows of `cols` (P × K, K = kh·kw·ci, row-major) added back into the
;; NHWC tensor `dx`, four values at a time in SIMD along each kernel row's
;; run of kw·ci values (a scalar tail), in the JavaScript loop's order: the
;; same float32 sums, bit for bit. The input gradient of every convolution
;; that takes the im2col path (pix2pix's transposed convolutions on small
;; grids, and the one to RGB) ends here.
;; cols, dx: byte offsets into the imported memory (the scratch arena of
;; scratch_arena.ts); the rest is the convolution's geometry (im2col.ts's
;; ConvGeometry).
;;
;; Built by build_col2im.ts (wabt) into col2im_wasm.ts.
(module
  (import "env" "memory" (memory 0))
  ;; dx[d .. d + len) += cols[s .. s + len) (byte offsets; len in values)
  (func $addRun (param $d i32) (param $s i32) (param $len i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $d) (i32.shl (local.get $len) (i32.const 2))))
    (local.set $vend (i32.sub (local.get $end) (i32.const 12)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_s (local.get $d) (local.get $vend)))
        (v128.store (local.get $d)
          (f32x4.add (v128.load (local.get $d)) (v128.load (local.get $s))))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (br $v)))
    (block $done
      (loop $t
        (br_if $done (i32.ge_u (local.get $d) (local.get $end)))
        (f32.store (local.get $d)
          (f32.add (f32.load (local.get $d)) (f32.load (local.get $s))))
        (local.set $d (i32.add (local.get $d) (i32.const 4)))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (br $t))))
  (func (export "col2im_add")
    (param $cols i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $ci i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (param $pt i32) (param $pl i32) (param $oh i32) (param $ow i32)
    (local $b i32) (local $y i32) (local $xx i32) (local $i i32)
    (local $xb i32) (local $ih0 i32) (local $iw0 i32) (local $ih i32)
    (local $jl i32) (local $jr i32) (local $run4 i32) (local $o i32)
    (local.set $run4 (i32.shl (i32.mul (local.get $kw) (local.get $ci)) (i32.const 2)))
    (local.set $o (local.get $cols))
    (local.set $b (i32.const 0))
    (block $bdone (loop $bl
      (br_if $bdone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $xb (i32.mul (local.get $b)
        (i32.mul (i32.mul (local.get $h) (local.get $w)) (local.get $ci))))
      (local.set $y (i32.const 0))
      (block $ydone (loop $yl
        (br_if $ydone (i32.ge_s (local.get $y) (local.get $oh)))
        (local.set $ih0 (i32.sub (i32.mul (local.get $y) (local.get $sh)) (local.get $pt)))
        (local.set $xx (i32.const 0))
        (block $xdone (loop $xl
          (br_if $xdone (i32.ge_s (local.get $xx) (local.get $ow)))
          (local.set $iw0 (i32.sub (i32.mul (local.get $xx) (local.get $sw)) (local.get $pl)))
          (local.set $jl (select (i32.sub (i32.const 0) (local.get $iw0)) (i32.const 0)
            (i32.lt_s (local.get $iw0) (i32.const 0))))
          (local.set $jr (select (i32.sub (local.get $w) (local.get $iw0)) (local.get $kw)
            (i32.gt_s (i32.add (local.get $iw0) (local.get $kw)) (local.get $w))))
          (local.set $i (i32.const 0))
          (block $idone (loop $il
            (br_if $idone (i32.ge_s (local.get $i) (local.get $kh)))
            (local.set $ih (i32.add (local.get $ih0) (local.get $i)))
            (if (i32.and
                  (i32.and (i32.ge_s (local.get $ih) (i32.const 0))
                    (i32.lt_s (local.get $ih) (local.get $h)))
                  (i32.gt_s (local.get $jr) (local.get $jl)))
              (then
                (call $addRun
                  (i32.add (local.get $dx) (i32.shl
                    (i32.add (local.get $xb) (i32.mul
                      (i32.add (i32.add (i32.mul (local.get $ih) (local.get $w))
                        (local.get $iw0)) (local.get $jl))
                      (local.get $ci)))
                    (i32.const 2)))
                  (i32.add (local.get $o) (i32.shl
                    (i32.mul (local.get $jl) (local.get $ci)) (i32.const 2)))
                  (i32.mul (i32.sub (local.get $jr) (local.get $jl)) (local.get $ci)))))
            (local.set $o (i32.add (local.get $o) (local.get $run4)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
          (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
          (br $xl)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))
)
