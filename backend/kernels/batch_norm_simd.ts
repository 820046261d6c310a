/**
 * The WebAssembly SIMD loops of the wasm batch-norm kernels
 * (`wasm/batch_norm.wat`), instantiated on a tfjs wasm backend's own memory
 * so that they work on the tensors where they lie. Each loop takes two
 * channels at a time in float64, exactly the JavaScript loops' operations:
 * results are bit-identical to them.
 *
 * @module
 */
import type { WasmBackendLike } from "./wasm_heap.ts";
import { heapSimdModule } from "./heap_simd_module.ts";
import {
  BATCH_NORM_WASM,
  BATCH_NORM_WASM_SHARED,
} from "./wasm/batch_norm_wasm.ts";

/** The loops of `batch_norm.wat` (pointers are byte offsets into the heap). */
export interface BatchNormLoops {
  /** `s1[c] += x − k[c]`, `s2[c] += (x − k[c])²` over `n` values of `c` channels. */
  stats(
    x: number,
    n: number,
    c: number,
    k: number,
    s1: number,
    s2: number,
  ): void;
  /** `y = f32(x·scale[c] + shift[c])`. */
  apply(
    x: number,
    y: number,
    n: number,
    c: number,
    scale: number,
    shift: number,
  ): void;
  /** `sdy[c] += dy`, `sdyx[c] += dy·(x − mu[c])`. */
  grad_sums(
    dy: number,
    x: number,
    n: number,
    c: number,
    mu: number,
    sdy: number,
    sdyx: number,
  ): void;
  /** `dx = f32(a[c]·dy + b[c]·x + d[c])`. */
  grad_apply(
    dy: number,
    x: number,
    dx: number,
    n: number,
    c: number,
    a: number,
    b: number,
    d: number,
  ): void;
}

/** The loops instantiated on a backend's heap, cached per wasm module. */
const loopsOn = heapSimdModule(
  BATCH_NORM_WASM,
  BATCH_NORM_WASM_SHARED,
  (exports) => exports as unknown as BatchNormLoops,
);

let enabled = true;

/** Turns the SIMD loops off (`false`: the JavaScript loops, for tests) or back on. */
export function setBatchNormSimd(on: boolean): void {
  enabled = on;
}

/** The SIMD loops on `backend`'s heap, or `null` (turned off, or not possible there). */
export function batchNormLoops(
  backend: WasmBackendLike,
): BatchNormLoops | null {
  if (!enabled) return null;
  return loopsOn(backend);
}
