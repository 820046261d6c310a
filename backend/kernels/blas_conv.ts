/**
 * The wasm backend's convolution kernels on a native BLAS (see `blas.ts`):
 * `Conv2D`, `FusedConv2D` (bias, linear activation), `Conv2DBackpropInput`
 * and `Conv2DBackpropFilter` as im2col / col2im (in JS) around one
 * `cblas_sgemm` on the wasm heap. Shapes they do not cover (channels-first
 * data, dilation, fused activations other than linear) go to the fallback.
 *
 * @module
 */
import type { Blas } from "./blas.ts";
import {
  col2imAdd,
  type ConvGeometry,
  convGeometry,
  type ConvPad,
  im2col,
  isPointwise,
} from "./im2col.ts";
import {
  type DirectKernel,
  heapF32,
  type TensorInfo,
  type WasmBackendLike,
} from "./wasm_heap.ts";

/** A scratch buffer for `cols(X)`, kept between calls (off the wasm heap). */
let scratch = new Float32Array(0);

function cols(size: number): Float32Array {
  if (scratch.length < size) scratch = new Float32Array(Math.ceil(size * 1.25));
  return scratch.subarray(0, size);
}

/** Releases the im2col scratch buffer (it grows to the largest layer seen). */
export function releaseBlasScratch(): void {
  scratch = new Float32Array(0);
}

type Args = {
  inputs: Record<string, TensorInfo | null | undefined>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
};

function dilated(attrs: Record<string, unknown>): boolean {
  const d = attrs.dilations as number | number[] | undefined;
  if (d == null) return false;
  return Array.isArray(d) ? d.some((v) => v !== 1) : d !== 1;
}

function nchw(attrs: Record<string, unknown>): boolean {
  return attrs.dataFormat === "NCHW" || attrs.dataFormat === "channelsFirst";
}

/** `Y = cols(X) · W` (+ bias), into a new tensor. */
function forward(
  blas: Blas,
  backend: WasmBackendLike,
  g: ConvGeometry,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | null | undefined,
): TensorInfo {
  const out = backend.makeOutput([g.n, g.oh, g.ow, g.co], "float32");
  const p = g.n * g.oh * g.ow;
  const k = g.kh * g.kw * g.ci;
  const xv = heapF32(backend, x);
  const wv = heapF32(backend, filter);
  const ov = heapF32(backend, out);
  let a = xv;
  if (!isPointwise(g)) {
    a = cols(p * k);
    im2col(g, xv, a);
  }
  blas.sgemm(false, false, p, g.co, k, 1, a, k, wv, g.co, 0, ov, g.co);
  if (bias) {
    const bv = heapF32(backend, bias);
    if (bv.length === g.co) {
      for (let r = 0, o = 0; r < p; r++) {
        for (let c = 0; c < g.co; c++, o++) ov[o] += bv[c];
      }
    } else if (bv.length === 1) {
      const b0 = bv[0];
      for (let o = 0; o < ov.length; o++) ov[o] += b0;
    } else {
      throw new Error(
        `FusedConv2D (p2p blas): bias of shape [${bias.shape}] does not broadcast to ${g.co} channels`,
      );
    }
  }
  return out;
}

/** `Conv2D` on the BLAS; `fallback` for what it does not cover. */
export function conv2DBlas(
  args: Args,
  blas: Blas,
  fallback: DirectKernel,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  if (nchw(attrs) || dilated(attrs)) {
    return fallback(args as Parameters<DirectKernel>[0]);
  }
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const g = convGeometry(
    x.shape,
    filter.shape,
    attrs.strides as number | [number, number],
    attrs.pad as ConvPad,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  return forward(blas, backend, g, x, filter, null);
}

/** `FusedConv2D` with a linear activation on the BLAS; `fallback` otherwise. */
export function fusedConv2DBlas(
  args: Args,
  blas: Blas,
  fallback: DirectKernel,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const activation = (attrs.activation as string | undefined) ?? "linear";
  if (
    nchw(attrs) || dilated(attrs) || activation !== "linear" ||
    inputs.preluActivationWeights
  ) {
    return fallback(args as Parameters<DirectKernel>[0]);
  }
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const g = convGeometry(
    x.shape,
    filter.shape,
    attrs.strides as number | [number, number],
    attrs.pad as ConvPad,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  return forward(blas, backend, g, x, filter, inputs.bias);
}

/** `Conv2DBackpropInput`: `dX = col2im(dY · Wᵀ)` on the BLAS. */
export function conv2DBackpropInputBlas(
  args: Args,
  blas: Blas,
  fallback: DirectKernel,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  if (nchw(attrs)) return fallback(args as Parameters<DirectKernel>[0]);
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const g = convGeometry(
    attrs.inputShape as number[],
    filter.shape,
    attrs.strides as number | [number, number],
    attrs.pad as ConvPad,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  checkDy(dy, g, "Conv2DBackpropInput");
  const dx = backend.makeOutput([g.n, g.h, g.w, g.ci], "float32");
  const p = g.n * g.oh * g.ow;
  const k = g.kh * g.kw * g.ci;
  const dyv = heapF32(backend, dy);
  const wv = heapF32(backend, filter);
  const dxv = heapF32(backend, dx);
  if (isPointwise(g)) {
    blas.sgemm(false, true, p, k, g.co, 1, dyv, g.co, wv, g.co, 0, dxv, k);
    return dx;
  }
  const c = cols(p * k);
  blas.sgemm(false, true, p, k, g.co, 1, dyv, g.co, wv, g.co, 0, c, k);
  dxv.fill(0);
  col2imAdd(g, c, dxv);
  return dx;
}

/** `Conv2DBackpropFilter`: `dW = cols(X)ᵀ · dY` on the BLAS. */
export function conv2DBackpropFilterBlas(args: Args, blas: Blas): TensorInfo {
  const { inputs, backend, attrs } = args;
  if (nchw(attrs)) {
    throw new Error(
      "Conv2DBackpropFilter (p2p wasm): dataFormat 'NCHW' is not supported, expected 'NHWC'",
    );
  }
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const g = convGeometry(
    x.shape,
    attrs.filterShape as number[],
    attrs.strides as number | [number, number],
    attrs.pad as ConvPad,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  checkDy(dy, g, "Conv2DBackpropFilter");
  const dw = backend.makeOutput([g.kh, g.kw, g.ci, g.co], "float32");
  const p = g.n * g.oh * g.ow;
  const k = g.kh * g.kw * g.ci;
  const xv = heapF32(backend, x);
  const dyv = heapF32(backend, dy);
  const dwv = heapF32(backend, dw);
  let a = xv;
  if (!isPointwise(g)) {
    a = cols(p * k);
    im2col(g, xv, a);
  }
  blas.sgemm(true, false, k, g.co, p, 1, a, k, dyv, g.co, 0, dwv, g.co);
  return dw;
}

function checkDy(dy: TensorInfo, g: ConvGeometry, kernel: string): void {
  const [n, oh, ow, co] = dy.shape;
  if (n !== g.n || oh !== g.oh || ow !== g.ow || co !== g.co) {
    throw new Error(
      `${kernel} (p2p blas): dy shape [${dy.shape}] does not match the convolution ` +
        `(expected [${g.n}, ${g.oh}, ${g.ow}, ${g.co}])`,
    );
  }
}

/**
 * `BatchMatMul` (float32) on the BLAS: one `sgemm` per batch entry; batch
 * dimensions must match or be 1 (broadcast), as tfjs-wasm's own kernel
 * requires too; anything else goes to `fallback`.
 */
export function batchMatMulBlas(
  args: Args,
  blas: Blas,
  fallback: DirectKernel,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const transA = Boolean(attrs.transposeA);
  const transB = Boolean(attrs.transposeB);
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (a.dtype !== "float32" || b.dtype !== "float32" || ra < 2 || rb < 2) {
    return fallback(args as Parameters<DirectKernel>[0]);
  }
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((s, v) => s * v, 1);
  const batchB = outerB.reduce((s, v) => s * v, 1);
  const sameOuter = outerA.length === outerB.length &&
    outerA.every((v, i) => v === outerB[i]);
  const outer = batchA >= batchB ? outerA : outerB;
  if (k !== kb || !(sameOuter || batchA === 1 || batchB === 1)) {
    return fallback(args as Parameters<DirectKernel>[0]);
  }
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput([...outer, m, n], "float32");
  const av = heapF32(backend, a);
  const bv = heapF32(backend, b);
  const ov = heapF32(backend, out);
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  for (let i = 0; i < batch; i++) {
    const ai = batchA === 1 ? 0 : i * m * k;
    const bi = batchB === 1 ? 0 : i * k * n;
    blas.sgemm(
      transA,
      transB,
      m,
      n,
      k,
      1,
      av.subarray(ai, ai + m * k),
      lda,
      bv.subarray(bi, bi + k * n),
      ldb,
      0,
      ov.subarray(i * m * n, (i + 1) * m * n),
      n,
    );
  }
  return out;
}
