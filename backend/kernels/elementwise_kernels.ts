/**
 * Element-wise wasm kernels for LeakyRelu and the ops of its gradient, as
 * plain loops over the wasm heap. tfjs-wasm runs these through generic C++
 * paths that cost ~10 ns an element (`Greater` against a broadcast scalar
 * and `Select` most); pix2pix calls them on every encoder and discriminator
 * activation, forwards and backwards:
 *
 * - `LeakyRelu` on float32: `x < 0 ? α·x : x` (four at a time in
 *   WebAssembly SIMD, `wasm/leaky_relu.wat`, bit-identical);
 * - `Greater` of float32 tensors of the same shape, or against a scalar
 *   (LeakyRelu's gradient compares with 0);
 * - `Select` with a bool condition of the same shape as its float32 or int32
 *   branches;
 * - `P2pLeakyReluGrad`, LeakyRelu's gradient in one pass (`@p2p/layers`
 *   routes the gradient to it where it is registered);
 * - `Add` of a tensor and a per-channel row (a bias);
 * - `Tanh` on float32 (the generator's output layer: tfjs-wasm's takes
 *   ~20 ns an element) as Eigen's rational approximation, within 2 ulp of
 *   float32 `tanh`, evaluated in float64 four at a time in WebAssembly SIMD
 *   (`wasm/tanh_simd.wat`, the JavaScript loop's bits; ~3 ns an element
 *   against its ~8).
 *
 * Anything else (other dtypes, broadcasting, a rank-1 condition) goes to the
 * stock kernel.
 *
 * @module
 */
import type { DirectKernel, TensorInfo, WasmBackendLike } from "./wasm_heap.ts";
import { heapSimdModule } from "./heap_simd_module.ts";
import {
  LEAKY_RELU_WASM,
  LEAKY_RELU_WASM_SHARED,
} from "./wasm/leaky_relu_wasm.ts";
import { TANH_WASM, TANH_WASM_SHARED } from "./wasm/tanh_simd_wasm.ts";

/** `wasm/leaky_relu.wat`'s loops on a backend's heap (byte offsets; `n` a multiple of 4), or `null`. */
const leakyReluLoops = heapSimdModule(
  LEAKY_RELU_WASM,
  LEAKY_RELU_WASM_SHARED,
  (e) => ({
    forward: e.leaky_relu as (
      x: number,
      y: number,
      n: number,
      alpha: number,
    ) => void,
    grad: e.leaky_relu_grad as (
      dy: number,
      x: number,
      dx: number,
      n: number,
      alpha: number,
    ) => void,
  }),
);

/** `wasm/tanh_simd.wat`'s loop on a backend's heap (byte offsets; `n` a multiple of 4; returns the values left to redo), or `null`. */
const tanhLoop = heapSimdModule(
  TANH_WASM,
  TANH_WASM_SHARED,
  (e) => e.tanh as (x: number, y: number, n: number) => number,
);

type Args = {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
};

const call = (f: DirectKernel, args: Args): TensorInfo =>
  f(args as Parameters<DirectKernel>[0]);

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

const sameShape = (a: number[], b: number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** The same memory as 4-byte integers. */
const int32 = (view: ArrayBufferView): Int32Array =>
  new Int32Array(view.buffer, view.byteOffset, view.byteLength >>> 2);

/** `LeakyRelu` on float32 as one loop over the heap. */
export function leakyReluFast(args: Args, fallback: DirectKernel): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  if (x.dtype !== "float32") return call(fallback, args);
  const alpha = attrs.alpha as number;
  const out = backend.makeOutput([...x.shape], "float32");
  const n = size(x.shape);
  if (n === 0) return out;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  // Branch-free (random signs make `v < 0 ? α·v : v` mispredict half the
  // time, ~5 ns an element): (v + |v|)/2 + α·(v − |v|)/2 is v or α·v exactly
  // (halving and doubling are exact); only ±∞ and NaN give NaN, and are
  // redone (a branch that is almost never taken).
  const h = 0.5 * alpha;
  // Four at a time in WebAssembly SIMD where it loads (the same bits).
  const loops = leakyReluLoops(backend);
  const simd = loops === null ? 0 : n - (n % 4);
  if (simd > 0) loops!.forward(xv.byteOffset, ov.byteOffset, simd, alpha);
  for (let i = simd; i < n; i++) {
    const v = xv[i];
    const m = Math.abs(v);
    let r = (v + m) * 0.5 + (v - m) * h;
    if (r !== r) r = v < 0 ? alpha * v : v;
    ov[i] = r;
  }
  return out;
}

/**
 * `P2pLeakyReluGrad`: `dx = x > 0 ? dy : dy·α` for float32 `dy` and `x` of
 * one shape, in float32 (α rounded to float32), as tfjs's own gradient
 * (`Greater`, `Multiply`, `Select`) computes it, in one pass (four at a
 * time in WebAssembly SIMD where it loads).
 */
export function leakyReluGradFast(args: Args): TensorInfo {
  const { inputs: { dy, x }, backend, attrs } = args;
  if (
    dy.dtype !== "float32" || x.dtype !== "float32" ||
    !sameShape(dy.shape, x.shape)
  ) {
    throw new Error(
      `p2p wasm P2pLeakyReluGrad: dy and x must be float32 of one shape, received ${dy.dtype} [${dy.shape}] and ${x.dtype} [${x.shape}]`,
    );
  }
  const a = Math.fround(attrs.alpha as number);
  const out = backend.makeOutput([...x.shape], "float32");
  const n = size(x.shape);
  if (n === 0) return out;
  const gv = backend.typedArrayFromHeap(dy) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  const loops = leakyReluLoops(backend);
  const simd = loops === null ? 0 : n - (n % 4);
  if (simd > 0) {
    loops!.grad(gv.byteOffset, xv.byteOffset, ov.byteOffset, simd, a);
  }
  for (let i = simd; i < n; i++) ov[i] = xv[i] > 0 ? gv[i] : gv[i] * a;
  return out;
}

/**
 * `Add` of a float32 tensor and a per-channel row (a bias: `b`'s shape is
 * `[C]`, or ones then `C`, and `a`'s last axis is `C`), in either order, as
 * one loop: tfjs-wasm's broadcasting path takes ~5 ns an element there (the
 * last transposed convolution's bias). Anything else goes to the stock
 * kernel (same shapes already run at memory speed).
 */
export function addBiasFast(args: Args, fallback: DirectKernel): TensorInfo {
  const { inputs: { a, b }, backend } = args;
  const isRow = (t: TensorInfo, of: TensorInfo) =>
    t.shape.length >= 1 && t.shape.length <= of.shape.length &&
    t.shape.slice(0, -1).every((d) => d === 1) &&
    t.shape[t.shape.length - 1] === of.shape[of.shape.length - 1] &&
    size(of.shape) > size(t.shape);
  const [x, row] = isRow(b, a) ? [a, b] : isRow(a, b) ? [b, a] : [null, null];
  if (
    x === null || row === null || x.dtype !== "float32" ||
    row.dtype !== "float32"
  ) {
    return call(fallback, args);
  }
  const out = backend.makeOutput([...x.shape], "float32");
  const n = size(x.shape);
  const c = row.shape[row.shape.length - 1];
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const bv = backend.typedArrayFromHeap(row) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < n; i += c) {
    for (let j = 0; j < c; j++) ov[i + j] = xv[i + j] + bv[j];
  }
  return out;
}

/** `Greater` of same-shape float32 tensors, or of a tensor and a scalar. */
export function greaterFast(args: Args, fallback: DirectKernel): TensorInfo {
  const { inputs: { a, b }, backend } = args;
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    return call(fallback, args);
  }
  const n = size(a.shape);
  const scalar = size(b.shape) === 1 && b.shape.length <= a.shape.length;
  if (!scalar && !sameShape(a.shape, b.shape)) return call(fallback, args);
  const out = backend.makeOutput([...a.shape], "bool");
  if (n === 0) return out;
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Uint8Array;
  // Number(boolean) compiles without a branch (`? 1 : 0` mispredicts).
  if (scalar) {
    const s = bv[0];
    for (let i = 0; i < n; i++) ov[i] = Number(av[i] > s);
  } else {
    for (let i = 0; i < n; i++) ov[i] = Number(av[i] > bv[i]);
  }
  return out;
}

/** `Select` with a bool condition shaped like its branches. */
export function selectFast(args: Args, fallback: DirectKernel): TensorInfo {
  const { inputs: { condition, t, e }, backend } = args;
  const four = (d: string) => d === "float32" || d === "int32";
  if (
    condition.dtype !== "bool" || !four(t.dtype) || t.dtype !== e.dtype ||
    !sameShape(condition.shape, t.shape) || !sameShape(t.shape, e.shape)
  ) {
    return call(fallback, args);
  }
  const out = backend.makeOutput([...t.shape], t.dtype);
  const n = size(t.shape);
  if (n === 0) return out;
  const cv = backend.typedArrayFromHeap(condition) as Uint8Array;
  // Bits through a mask (0 or −1) instead of a branch: exact for float32 too.
  const tv = int32(backend.typedArrayFromHeap(t));
  const ev = int32(backend.typedArrayFromHeap(e));
  const ov = int32(backend.typedArrayFromHeap(out));
  for (let i = 0; i < n; i++) {
    const m = -cv[i];
    ov[i] = (tv[i] & m) | (ev[i] & ~m);
  }
  return out;
}

// Eigen's `generic_fast_tanh_float` (also XNNPACK's and TensorFlow's):
// x·P(x²)/Q(x²) on |x| < 7.9, within 2 ulp of float32 tanh there.
const T1 = 4.89352455891786e-03, T3 = 6.37261928875436e-04;
const T5 = 1.48572235717979e-05, T7 = 5.12229709037114e-08;
const T9 = -8.60467152213735e-11, T11 = 2.00018790482477e-13;
const T13 = -2.76076847742355e-16;
const Q0 = 4.89352518554385e-03, Q2 = 2.26843463243900e-03;
const Q4 = 1.18534705686654e-04, Q6 = 1.19825839466702e-06;

/**
 * `Tanh` on float32 as one loop over the heap: the rational approximation
 * where |x| < 7.9 (x itself below 4e-4, where tanh(x) rounds to x), else
 * `Math.tanh` (±1 in float32, ±0, NaN). Four at a time in WebAssembly SIMD
 * where it loads (`wasm/tanh_simd.wat`: the same bits; it leaves [7.9, 9.02)
 * and NaN to {@linkcode tanhValues}).
 */
export function tanhFast(args: Args, fallback: DirectKernel): TensorInfo {
  const { inputs: { x }, backend } = args;
  if (x.dtype !== "float32") return call(fallback, args);
  const out = backend.makeOutput([...x.shape], "float32");
  const n = size(x.shape);
  if (n === 0) return out;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  const loop = tanhLoop(backend);
  const simd = loop === null ? 0 : n - (n % 4);
  if (simd > 0 && loop!(xv.byteOffset, ov.byteOffset, simd) > 0) {
    for (let i = 0; i < simd; i++) {
      const a = Math.abs(xv[i]);
      if (!(a < 7.9) && !(a >= 9.02)) ov[i] = Math.tanh(xv[i]);
    }
  }
  tanhValues(xv, ov, simd, n);
  return out;
}

/** Tanh of `x[from..to)` into `out`, as {@linkcode tanhFast} computes it. */
export function tanhValues(
  x: Float32Array,
  out: Float32Array,
  from: number,
  to: number,
): void {
  for (let i = from; i < to; i++) {
    const v = x[i];
    const a = Math.abs(v);
    if (a < 7.9 && a >= 4e-4) {
      const v2 = v * v;
      const p = v * (T1 + v2 * (T3 + v2 * (T5 + v2 * (T7 + v2 * (T9 +
                        v2 * (T11 + v2 * T13))))));
      out[i] = p / (Q0 + v2 * (Q2 + v2 * (Q4 + v2 * Q6)));
    } else out[i] = a < 4e-4 ? v : Math.tanh(v);
  }
}
