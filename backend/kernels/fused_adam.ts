/**
 * The fused Adam update kernel `P2pAdamUpdate` on the wasm backend (the
 * optimizer that calls it by name is `Adam` in `@p2p/train`).
 *
 * `tf.train.adam` updates each variable with 13 separate element-wise
 * kernels, each writing a full-size tensor: for pix2pix's 57 M parameters that
 * is a large share of a wasm training step. This kernel computes the same
 * update in a single pass over the wasm heap.
 *
 * @module
 */
import { heapF32, type TensorInfo, type WasmBackendLike } from "./wasm_heap.ts";

/** Name of the fused update kernel. */
export const ADAM_UPDATE = "P2pAdamUpdate";

/**
 * The update loop as a WebAssembly SIMD module (f32x4, four elements an
 * iteration) that imports the wasm backend's own memory, so it works on the
 * tensors where they lie. Source (WebAssembly text, compiled with wabt's
 * `wat2wasm --enable-simd`):
 *
 * ```wat
 * (func (export "adam") (param $p $m $v $g $np $nm $nv $n i32)
 *       (param $b1 $a1 $b2 $a2 $step $rc $eps f32)
 *   ;; byte offsets; for each element i (4 at a time, then the tail):
 *   ;;   mi = m[i]·b1 + g[i]·a1;  vi = v[i]·b2 + g[i]·g[i]·a2
 *   ;;   nm[i] = mi;  nv[i] = vi;  np[i] = p[i] − (step·mi) / (√vi·rc + eps)
 * )
 * ```
 *
 * It imports `env.memory` as `(memory 0)`; the second build declares it
 * `(memory 0 65536 shared)` for tfjs-wasm's threaded build.
 */
const ADAM_WASM =
  "AGFzbQEAAAABEwFgD39/f39/f39/fX19fX19fQACDwEDZW52Bm1lbW9yeQIAAAMCAQAHCAEE" +
  "YWRhbQAACuECAd4CAwJ/CnsDfSAI/RMhFCAJ/RMhFSAK/RMhFiAL/RMhFyAM/RMhGCAN/RMh" +
  "GSAO/RMhGiAHQXxxQQJ0IRACQANAIA8gEE8NASADIA9q/QACACERIAEgD2r9AAIAIBT95gEg" +
  "ESAV/eYB/eQBIRIgAiAPav0AAgAgFv3mASARIBH95gEgF/3mAf3kASETIAUgD2ogEv0LAgAg" +
  "BiAPaiAT/QsCACAEIA9qIAAgD2r9AAIAIBggEv3mASAT/eMBIBn95gEgGv3kAf3nAf3lAf0L" +
  "AgAgD0EQaiEPDAALCyAHQQJ0IRACQANAIA8gEE8NASADIA9qKgIAIRsgASAPaioCACAIlCAb" +
  "IAmUkiEcIAIgD2oqAgAgCpQgGyAblCALlJIhHSAFIA9qIBw4AgAgBiAPaiAdOAIAIAQgD2og" +
  "ACAPaioCACAMIByUIB2RIA2UIA6SlZM4AgAgD0EEaiEPDAALCws=";
const ADAM_WASM_SHARED =
  "AGFzbQEAAAABEwFgD39/f39/f39/fX19fX19fQACEgEDZW52Bm1lbW9yeQIDAICABAMCAQAH" +
  "CAEEYWRhbQAACuECAd4CAwJ/CnsDfSAI/RMhFCAJ/RMhFSAK/RMhFiAL/RMhFyAM/RMhGCAN" +
  "/RMhGSAO/RMhGiAHQXxxQQJ0IRACQANAIA8gEE8NASADIA9q/QACACERIAEgD2r9AAIAIBT9" +
  "5gEgESAV/eYB/eQBIRIgAiAPav0AAgAgFv3mASARIBH95gEgF/3mAf3kASETIAUgD2ogEv0L" +
  "AgAgBiAPaiAT/QsCACAEIA9qIAAgD2r9AAIAIBggEv3mASAT/eMBIBn95gEgGv3kAf3nAf3l" +
  "Af0LAgAgD0EQaiEPDAALCyAHQQJ0IRACQANAIA8gEE8NASADIA9qKgIAIRsgASAPaioCACAI" +
  "lCAbIAmUkiEcIAIgD2oqAgAgCpQgGyAblCALlJIhHSAFIA9qIBw4AgAgBiAPaiAdOAIAIAQg" +
  "D2ogACAPaioCACAMIByUIB2RIA2UIA6SlZM4AgAgD0EEaiEPDAALCws=";

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

/** The SIMD loop instantiated on a backend's memory (`null`: not possible there). */
const simdLoops = new WeakMap<object, AdamLoop | null>();

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The SIMD update loop on `backend`'s heap, or `null` to use JavaScript. */
function simdLoop(backend: WasmBackendLike): AdamLoop | null {
  const module = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm;
  if (module === undefined) return null;
  const cached = simdLoops.get(module);
  if (cached !== undefined) return cached;
  let loop: AdamLoop | null = null;
  try {
    const memory = (module as { asm?: { memory?: unknown } }).asm?.memory ??
      (module as { wasmMemory?: unknown }).wasmMemory;
    if (memory instanceof WebAssembly.Memory) {
      const shared = typeof SharedArrayBuffer !== "undefined" &&
        memory.buffer instanceof SharedArrayBuffer;
      const instance = new WebAssembly.Instance(
        new WebAssembly.Module(bytes(shared ? ADAM_WASM_SHARED : ADAM_WASM)),
        { env: { memory } },
      );
      loop = instance.exports.adam as AdamLoop;
    }
  } catch {
    loop = null; // no SIMD in this engine, or a memory it cannot import
  }
  simdLoops.set(module, loop);
  return loop;
}

let simdEnabled = true;

/** Whether the SIMD update loop loads on `backend`'s memory. */
export function adamSimdAvailable(backend: WasmBackendLike): boolean {
  return simdLoop(backend) !== null;
}

/** Turns the SIMD loop off (`false`: the JavaScript loop, for tests) or back on. */
export function setAdamSimd(enabled: boolean): void {
  simdEnabled = enabled;
}

/**
 * The fused update on the wasm heap: inputs `value`, `m`, `v`, `grad`; attrs
 * `lr`, `beta1`, `beta2`, `epsilon`, `c1 = 1 − β1ᵗ`, `c2 = 1 − β2ᵗ`; outputs
 * the new value, m and v. Runs the SIMD loop where it loads, else the same
 * formula in JavaScript.
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
  const outP = backend.makeOutput(value.shape, "float32");
  const outM = backend.makeOutput(value.shape, "float32");
  const outV = backend.makeOutput(value.shape, "float32");
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
