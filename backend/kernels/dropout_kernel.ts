/**
 * `P2pDropout` on the wasm backend: seeded inverted dropout in one pass over
 * the heap, `y = x · (u < 1 − rate ? 1/(1 − rate) : 0)`, with u the values
 * `tf.randomUniform(x.shape, 0, 1, "float32", seed)` draws (Alea, `alea.ts`)
 * — the mask of `@p2p/layers`' SeededDropout bit for bit, without its five
 * kernels, its JavaScript random loop and its float32 buffer on the
 * JavaScript heap. The loop is WebAssembly (`wasm/dropout.wat`) where that
 * loads, JavaScript otherwise (the same values).
 *
 * @module
 */
import type { TensorInfo, WasmBackendLike } from "./wasm_heap.ts";
import { aleaNext, type AleaState, aleaState } from "./alea.ts";
import { heapSimdModule } from "./heap_simd_module.ts";
import { DROPOUT_WASM, DROPOUT_WASM_SHARED } from "./wasm/dropout_wasm.ts";

/** The kernel's name (inputs `x`; attrs `seed`, `rate`). */
export const DROPOUT_KERNEL = "P2pDropout";

type DropoutLoop = (
  x: number,
  y: number,
  n: number,
  s0: number,
  s1: number,
  s2: number,
  c: number,
  keep: number,
  scale: number,
) => void;

/** `wasm/dropout.wat`'s loop on a backend's heap, or `null`. */
const dropoutLoop = heapSimdModule(
  DROPOUT_WASM,
  DROPOUT_WASM_SHARED,
  (e) => e.dropout as DropoutLoop,
);

type Args = {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
};

/** `P2pDropout` of float32 `x` with attrs `seed` (a number) and `rate` in [0, 1). */
export function dropoutFast(args: Args): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  const seed = attrs.seed;
  const rate = attrs.rate;
  if (x?.dtype !== "float32") {
    throw new Error(
      `p2p wasm P2pDropout: x must be float32, received ${x?.dtype}`,
    );
  }
  if (typeof seed !== "number" || !Number.isFinite(seed)) {
    throw new Error(
      `p2p wasm P2pDropout: seed must be a finite number, received ${
        String(seed)
      }`,
    );
  }
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    throw new Error(
      `p2p wasm P2pDropout: rate must be in [0, 1), received ${String(rate)}`,
    );
  }
  // tfjs compares with 1 − rate and scales by 1/(1 − rate) as float32 scalars.
  const keep = Math.fround(1 - rate);
  const scale = Math.fround(1 / (1 - rate));
  const out = backend.makeOutput([...x.shape], "float32");
  const n = x.shape.reduce((a, b) => a * b, 1);
  if (n === 0) return out;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  const state = aleaState(String(seed));
  const loop = dropoutLoop(backend);
  if (loop !== null) {
    const { s0, s1, s2, c } = state;
    loop(xv.byteOffset, ov.byteOffset, n, s0, s1, s2, c, keep, scale);
    return out;
  }
  dropoutValues(xv, ov, state, keep, scale);
  return out;
}

/**
 * The loop of `wasm/dropout.wat` in JavaScript (where WebAssembly does not
 * load): `out[i] = x[i] · (u < keep ? scale : 0)` for the next value u of
 * `state` rounded to float32 (`keep`, `scale` float32).
 */
export function dropoutValues(
  x: Float32Array,
  out: Float32Array,
  state: AleaState,
  keep: number,
  scale: number,
): void {
  for (let i = 0; i < x.length; i++) {
    const u = Math.fround(aleaNext(state));
    out[i] = x[i] * (u < keep ? scale : 0);
  }
}
