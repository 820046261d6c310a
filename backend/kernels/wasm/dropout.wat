;; Seeded inverted dropout over float32 tensors on the tfjs wasm backend's
;; heap (P2pDropout, `dropout_kernel.ts`): y = x · (u < keep ? scale : 0),
;; where u is the next value of Baagøe's Alea generator (the one behind
;; tfjs's seeded `tf.randomUniform`) rounded to float32, so the mask is the
;; one `tf.less(tf.randomUniform(shape, 0, 1, "float32", seed), keep)` draws.
;; Alea is a sequence, so this is a scalar loop: per value, two float64
;; products, a sum, a truncation and a difference (as JavaScript computes
;; them: wasm's float64 operations are IEEE, unfused), then one float32
;; product.
;; x, y: byte offsets into the imported memory; n: values; s0, s1, s2, c:
;; Alea's state (`alea.ts`); keep: 1 − rate and scale: 1/(1 − rate), both
;; rounded to float32.
;;
;; Built by build_dropout.ts (wabt) into dropout_wasm.ts, twice: as written
;; here, and with the memory import declared `(memory 0 65536 shared)` for
;; tfjs-wasm's threaded build.
(module
  (import "env" "memory" (memory 0))
  (func (export "dropout")
    (param $x i32) (param $y i32) (param $n i32)
    (param $s0 f64) (param $s1 f64) (param $s2 f64) (param $c f64)
    (param $keep f32) (param $scale f32)
    (local $i i32) (local $end i32) (local $t f64)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $t
          (f64.add
            (f64.mul (f64.const 2091639) (local.get $s0))
            (f64.mul (local.get $c) (f64.const 2.3283064365386963e-10))))
        (local.set $s0 (local.get $s1))
        (local.set $s1 (local.get $s2))
        (local.set $c (f64.trunc (local.get $t)))
        (local.set $s2 (f64.sub (local.get $t) (local.get $c)))
        (f32.store (i32.add (local.get $y) (local.get $i))
          (f32.mul
            (f32.load (i32.add (local.get $x) (local.get $i)))
            (select (local.get $scale) (f32.const 0)
              (f32.lt (f32.demote_f64 (local.get $s2)) (local.get $keep)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))
)
