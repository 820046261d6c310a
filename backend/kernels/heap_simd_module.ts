/**
 * A WebAssembly SIMD module instantiated on a tfjs wasm backend's own
 * memory, so that its loops work on the tensors where they lie: the shared
 * part of `batch_norm_simd.ts` and `wasm/adam_update.ts`.
 *
 * @module
 */
import type { WasmBackendLike } from "./wasm_heap.ts";

/** The bytes of a base64 text. */
function bytes(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * A function giving `pick` of the module's exports instantiated on a
 * backend's heap, or `null` where that is not possible (no wasm module or
 * memory, no SIMD in this engine, or a memory it cannot import), cached per
 * wasm module. `plain` and `shared` are the module (base64) importing a
 * plain `env.memory` and a shared one (tfjs-wasm's threaded build).
 */
export function heapSimdModule<T>(
  plain: string,
  shared: string,
  pick: (exports: WebAssembly.Exports) => T,
): (backend: WasmBackendLike) => T | null {
  const cache = new WeakMap<object, T | null>();
  return (backend) => {
    const module = (backend as { wasm?: object }).wasm;
    if (module === undefined) return null;
    const cached = cache.get(module);
    if (cached !== undefined) return cached;
    let found: T | null = null;
    try {
      const memory = (module as { asm?: { memory?: unknown } }).asm?.memory ??
        (module as { wasmMemory?: unknown }).wasmMemory;
      if (memory instanceof WebAssembly.Memory) {
        const isShared = typeof SharedArrayBuffer !== "undefined" &&
          memory.buffer instanceof SharedArrayBuffer;
        const instance = new WebAssembly.Instance(
          new WebAssembly.Module(bytes(isShared ? shared : plain)),
          { env: { memory } },
        );
        found = pick(instance.exports);
      }
    } catch {
      found = null; // no SIMD in this engine, or a memory it cannot import
    }
    cache.set(module, found);
    return found;
  };
}
