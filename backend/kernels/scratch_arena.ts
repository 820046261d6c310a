/**
 * The scratch memory of the space-to-depth convolutions (`s2d_conv.ts`): one
 * `WebAssembly.Memory` that the Winograd transforms' SIMD loops
 * (`wasm/winograd_wasm.ts`) work on and the BLAS reads and writes in place,
 * carved into the buffers of one kernel call at a time.
 *
 * Growing a wasm memory detaches the views on it, so a call asks for all its
 * buffers at once ({@linkcode scratchViews}) and takes no more until it ends.
 *
 * @module
 */
import { WINOGRAD_WASM } from "./wasm/winograd_wasm.ts";

/**
 * The SIMD transforms by export name (`in2`, `out3`, `w24`, …; see
 * `wasm/winograd_wat.ts` for their arguments, all in bytes).
 */
export type WinogradSimd = Record<string, (...args: number[]) => void>;

const PAGE = 65536;

let memory: WebAssembly.Memory | null = null;
let simd: WinogradSimd | null | undefined;

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function arena(): WebAssembly.Memory {
  if (memory === null) {
    memory = new WebAssembly.Memory({ initial: 1 });
    simd = undefined;
    modules = new Map();
  }
  return memory;
}

/**
 * The SIMD transforms on the arena's memory, or `null` where this engine
 * cannot run them (no WebAssembly SIMD).
 */
export function arenaSimd(): WinogradSimd | null {
  const mem = arena();
  if (simd === undefined) {
    try {
      const instance = new WebAssembly.Instance(
        new WebAssembly.Module(bytes(WINOGRAD_WASM)),
        { env: { memory: mem } },
      );
      simd = instance.exports as unknown as WinogradSimd;
    } catch {
      simd = null; // no SIMD in this engine
    }
  }
  return simd;
}

/** Other modules instantiated on the arena, by their base64 text (`null`: it did not load). */
let modules = new Map<string, WebAssembly.Exports | null>();

/**
 * The exports of `module` (base64 WebAssembly importing `env.memory`)
 * instantiated on the arena's memory, or `null` where this engine cannot run
 * it (no WebAssembly SIMD); cached until {@linkcode releaseArena}.
 */
export function arenaModule(module: string): WebAssembly.Exports | null {
  const mem = arena();
  let found = modules.get(module);
  if (found === undefined) {
    try {
      found = new WebAssembly.Instance(
        new WebAssembly.Module(bytes(module)),
        { env: { memory: mem } },
      ).exports;
    } catch {
      found = null; // no SIMD in this engine
    }
    modules.set(module, found);
  }
  return found;
}

/** Whether `view` lies in the arena's memory (as {@linkcode scratchViews} made it). */
export function inArena(view: Float32Array): boolean {
  return memory !== null && view.buffer === memory.buffer;
}

/**
 * Views of `sizes` floats each in the arena, 64-byte aligned, the memory
 * grown to hold them all. Views from an earlier call may be detached: take
 * every buffer a call needs at once.
 */
export function scratchViews(sizes: number[]): Float32Array[] {
  const mem = arena();
  const offsets: number[] = [];
  let top = 0;
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(
        `scratchViews: expected sizes that are whole numbers ≥ 0, received ${size}`,
      );
    }
    offsets.push(top);
    top += Math.ceil((size * 4) / 64) * 64;
  }
  if (top > mem.buffer.byteLength) {
    const pages = Math.ceil((top - mem.buffer.byteLength) / PAGE);
    // Some headroom, so that a slightly larger layer does not grow it again.
    mem.grow(pages + (pages >> 3));
  }
  return sizes.map((size, i) => new Float32Array(mem.buffer, offsets[i], size));
}

/** Releases the arena's memory (it grows to the largest call seen). */
export function releaseArena(): void {
  memory = null;
  simd = undefined;
  modules = new Map();
}
