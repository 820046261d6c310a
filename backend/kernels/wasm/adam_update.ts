/**
 * `P2pAdamUpdate` on the wasm backend: the Adam update of one variable in one
 * pass over the wasm heap (the kernel `fusedAdam`'s optimizer calls), as a
 * WebAssembly SIMD loop where it loads, else the same formula in JavaScript.
 *
 * Inputs `value`, `m`, `v`, `grad`; attrs `lr`, `beta1`, `beta2`, `epsilon`,
 * `c1 = 1 − β1ᵗ`, `c2 = 1 − β2ᵗ`, optional `inPlace`; outputs the new value,
 * m and v. With `inPlace: true` (the optimizer's, whose variables take the
 * outputs at once) each of `value`, `m`, `v` whose memory no other tensor
 * shares is overwritten and returned as its own output (same data id): no
 * fresh output memory to allocate and write-allocate.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  heapF32,
  type TensorInfo,
  type WasmBackendLike,
} from "../wasm_heap.ts";
import {
  ADAM_UPDATE_WASM,
  ADAM_UPDATE_WASM_SHARED,
} from "./adam_update_wasm.ts";
import { heapSimdModule } from "../heap_simd_module.ts";

/** Name of the fused update kernel. */
export const ADAM_UPDATE = "P2pAdamUpdate";

// The update loop as a WebAssembly SIMD module (f32x4, four elements an
// iteration) that imports the wasm backend's own memory, so it works on the
// tensors where they lie: source adam_update.wat, built into
// adam_update_wasm.ts by build_adam_update.ts; the second build declares the
// memory `(memory 0 65536 shared)` for tfjs-wasm's threaded build.

type AdamLoop = (
  p: number,
  m: number,
  v: number,
  g: number,
  np: number,
  nm: number,
  nv: number,
  n: number,
  b1: number,
  a1: number,
  b2: number,
  a2: number,
  step: number,
  rc: number,
  eps: number,
) => void;

/** The SIMD update loop on `backend`'s heap, or `null` to use JavaScript. */
const simdLoop: (backend: WasmBackendLike) => AdamLoop | null = heapSimdModule(
  ADAM_UPDATE_WASM,
  ADAM_UPDATE_WASM_SHARED,
  (exports) => exports.adam as AdamLoop,
);

let simdEnabled = true;

/** Whether the SIMD update loop loads on `backend`'s memory. */
export function adamSimdAvailable(backend: WasmBackendLike): boolean {
  return simdLoop(backend) !== null;
}

/** Turns the SIMD loop off (`false`: the JavaScript loop, for tests) or back on. */
export function setAdamSimd(enabled: boolean): void {
  simdEnabled = enabled;
}

/** The backend's reference counting of data ids (tfjs-wasm's `BackendWasm`). */
interface RefCounting {
  refCount(dataId: tf.DataId): number;
  incRef(dataId: tf.DataId): void;
}

function refCounting(backend: WasmBackendLike): RefCounting | null {
  const b = backend as Partial<RefCounting>;
  return typeof b.refCount === "function" && typeof b.incRef === "function"
    ? b as RefCounting
    : null;
}

/**
 * The output of `input` updated in place: `input` itself (one more reference)
 * where no other tensor shares its memory, else a fresh output.
 */
function outputFor(
  backend: WasmBackendLike,
  counts: RefCounting | null,
  input: TensorInfo,
): TensorInfo {
  if (
    counts !== null && input.dtype === "float32" &&
    counts.refCount(input.dataId) === 1
  ) {
    counts.incRef(input.dataId);
    return { dataId: input.dataId, shape: [...input.shape], dtype: "float32" };
  }
  return backend.makeOutput(input.shape, "float32");
}

/**
 * The fused update on the wasm heap: inputs `value`, `m`, `v`, `grad`; attrs
 * `lr`, `beta1`, `beta2`, `epsilon`, `c1 = 1 − β1ᵗ`, `c2 = 1 − β2ᵗ`, optional
 * `inPlace` (overwrite `value`, `m`, `v` where no other tensor shares their
 * memory; their outputs are then the inputs' own data ids); outputs the new
 * value, m and v. Runs the SIMD loop where it loads, else the same formula in
 * JavaScript.
 */
export function adamUpdateWasm(args: {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
}): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { value, m, v, grad } = inputs;
  const lr = attrs.lr as number;
  const b1 = attrs.beta1 as number;
  const b2 = attrs.beta2 as number;
  const eps = attrs.epsilon as number;
  const c1 = attrs.c1 as number;
  const c2 = attrs.c2 as number;
  const counts = attrs.inPlace === true ? refCounting(backend) : null;
  const outP = outputFor(backend, counts, value);
  const outM = outputFor(backend, counts, m);
  const outV = outputFor(backend, counts, v);
  const P = heapF32(backend, value);
  const M = heapF32(backend, m);
  const V = heapF32(backend, v);
  const G = heapF32(backend, grad);
  const NP = heapF32(backend, outP);
  const NM = heapF32(backend, outM);
  const NV = heapF32(backend, outV);
  const a1 = 1 - b1;
  const a2 = 1 - b2;
  // value − lr · (m / c1) / (sqrt(v / c2) + ε), with one sqrt and one division.
  const step = lr / c1;
  const rootC2 = 1 / Math.sqrt(c2);
  const loop = simdEnabled ? simdLoop(backend) : null;
  if (loop !== null) {
    loop(
      P.byteOffset,
      M.byteOffset,
      V.byteOffset,
      G.byteOffset,
      NP.byteOffset,
      NM.byteOffset,
      NV.byteOffset,
      P.length,
      b1,
      a1,
      b2,
      a2,
      step,
      rootC2,
      eps,
    );
    return [outP, outM, outV];
  }
  for (let i = 0; i < P.length; i++) {
    const g = G[i];
    const mi = M[i] * b1 + g * a1;
    const vi = V[i] * b2 + g * g * a2;
    NM[i] = mi;
    NV[i] = vi;
    NP[i] = P[i] - (step * mi) / (Math.sqrt(vi) * rootC2 + eps);
  }
  return [outP, outM, outV];
}

/** p2p's `P2pAdamUpdate` kernel for the wasm backend. */
export const adamUpdateConfig: tf.KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: "wasm",
  kernelFunc: adamUpdateWasm as unknown as tf.KernelFunc,
};
