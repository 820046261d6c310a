;; Strided row copies on the tfjs wasm backend's heap, for Concat
;; (data_kernels.ts): `rows` runs of `bytes` bytes, from `src` (runs
;; `src_stride` bytes apart) to `dst` (runs `dst_stride` bytes apart), each
;; one `memory.copy` — where JavaScript's element loop or a copyWithin call
;; per run costs ~1 ns an element on short runs (pix2pix's skip connections
;; concatenate 32–512 channels a pixel).
;;
;; Built by build_copy_rows.ts (wabt) into copy_rows_wasm.ts, twice: as
;; written here, and with the memory import declared
;; `(memory 0 65536 shared)` for tfjs-wasm's threaded build.
(module
  (import "env" "memory" (memory 0))
  (func (export "copy_rows")
    (param $src i32) (param $dst i32) (param $bytes i32) (param $rows i32)
    (param $src_stride i32) (param $dst_stride i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $rows)))
        (memory.copy (local.get $dst) (local.get $src) (local.get $bytes))
        (local.set $src (i32.add (local.get $src) (local.get $src_stride)))
        (local.set $dst (i32.add (local.get $dst) (local.get $dst_stride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $next)))))
