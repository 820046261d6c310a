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

const loops = new WeakMap<object, BatchNormLoops | null>();

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

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
  const module = (backend as { wasm?: object }).wasm;
  if (module === undefined) return null;
  const cached = loops.get(module);
  if (cached !== undefined) return cached;
  let found: BatchNormLoops | null = null;
  try {
    const memory = (module as { asm?: { memory?: unknown } }).asm?.memory ??
      (module as { wasmMemory?: unknown }).wasmMemory;
    if (memory instanceof WebAssembly.Memory) {
      const shared = typeof SharedArrayBuffer !== "undefined" &&
        memory.buffer instanceof SharedArrayBuffer;
      const instance = new WebAssembly.Instance(
        new WebAssembly.Module(
          bytes(shared ? BATCH_NORM_WASM_SHARED : BATCH_NORM_WASM),
        ),
        { env: { memory } },
      );
      found = instance.exports as unknown as BatchNormLoops;
    }
  } catch {
    found = null; // no SIMD in this engine, or a memory it cannot import
  }
  loops.set(module, found);
  return found;
}
