/**
 * The wasm backend's convolution kernels on a native BLAS (see `blas.ts`):
 * `Conv2D`, `FusedConv2D` (bias, linear activation), `Conv2DBackpropInput`
 * and `Conv2DBackpropFilter` as `cblas_sgemm` on the wasm heap: kernels a
 * multiple of the stride on large outputs through space-to-depth and
 * shifted-view products (`s2d_conv.ts`, no im2col matrix), the rest as
 * im2col / col2im (in JS) around one product, or one per kernel row when
 * whole kernel rows or columns only see padding (`active_taps.ts`). Shapes
 * they do not cover (channels-first data, dilation, fused activations other
 * than linear) go to the fallback.
 *
 * @module
 */
import { activeTaps, prunedGeometry } from "./active_taps.ts";
import type { Blas } from "./blas.ts";
import { col2imInto, col2imScratch } from "./col2im.ts";
import {
  type ConvGeometry,
  convGeometry,
  type ConvPad,
  im2col,
  isPointwise,
} from "./im2col.ts";
import {
  fillRows,
  releaseS2dScratch,
  s2dBackpropFilter,
  s2dBackpropInput,
  s2dForward,
  s2dGeometry,
} from "./s2d_conv.ts";
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

/** `cols(X)` of `g` (`P × K`, by {@linkcode im2col}) in the scratch buffer. */
function colsOf(g: ConvGeometry, x: Float32Array): Float32Array {
  const a = cols(g.n * g.oh * g.ow * g.kh * g.kw * g.ci);
  im2col(g, x, a);
  return a;
}

/** Releases the im2col scratch buffer (it grows to the largest layer seen). */
export function releaseBlasScratch(): void {
  scratch = new Float32Array(0);
  releaseS2dScratch();
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

/** The convolution geometry of a kernel call from its shapes and tfjs attributes. */
function geometryOf(
  xShape: number[],
  filterShape: number[],
  attrs: Record<string, unknown>,
): ConvGeometry {
  return convGeometry(
    xShape,
    filterShape,
    attrs.strides as number | [number, number],
    attrs.pad as ConvPad,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
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
  const d = isPointwise(g) || shiftAddCheaper(g)
    ? undefined
    : s2dGeometry(g, "forward", blas.threads, blas.macsPerNs);
  if (d) {
    const bv = bias ? heapF32(backend, bias) : null;
    if (bv && bv.length !== g.co && bv.length !== 1) badBias(bias!, g);
    s2dForward(blas, d, xv, wv, bv, ov);
    return out;
  }
  if (!isPointwise(g) && shiftAddCheaper(g)) {
    shiftAddForward(blas, g, xv, wv, ov);
  } else {
    const bv = bias ? heapF32(backend, bias) : null;
    if (bv) {
      if (bv.length !== g.co && bv.length !== 1) badBias(bias!, g);
      fillRows(ov, bv, g.co);
    }
    const gp = isPointwise(g) ? undefined : prunedGeometry(g, activeTaps(g));
    if (gp) {
      // Kernel rows and columns that only see padding are skipped.
      const kp = gp.kh * gp.kw * g.ci;
      const run = gp.kw * g.ci;
      const a = colsOf(gp, xv);
      for (let i = 0; i < gp.kh; i++) {
        const wo = weightRow(g, gp, i);
        blas.sgemm(
          false,
          false,
          p,
          g.co,
          run,
          1,
          a.subarray(i * run),
          kp,
          wv.subarray(wo, wo + run * g.co),
          g.co,
          i === 0 && !bv ? 0 : 1,
          ov,
          g.co,
        );
      }
      return out;
    }
    const a = isPointwise(g) ? xv : colsOf(g, xv);
    blas.sgemm(
      false,
      false,
      p,
      g.co,
      k,
      1,
      a,
      k,
      wv,
      g.co,
      bv ? 1 : 0,
      ov,
      g.co,
    );
    return out;
  }
  if (bias) {
    const bv = heapF32(backend, bias);
    if (bv.length !== g.co && bv.length !== 1) badBias(bias, g);
    for (let r = 0, o = 0; r < p; r++) {
      for (let c = 0; c < g.co; c++, o++) {
        ov[o] += bv.length === 1 ? bv[0] : bv[c];
      }
    }
  }
  return out;
}

function badBias(bias: TensorInfo, g: ConvGeometry): never {
  throw new Error(
    `FusedConv2D (p2p blas): bias of shape [${bias.shape}] does not broadcast to ${g.co} channels`,
  );
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
  const g = geometryOf(x.shape, filter.shape, attrs);
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
  const g = geometryOf(x.shape, filter.shape, attrs);
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
  const g = geometryOf(attrs.inputShape as number[], filter.shape, attrs);
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
  const d = flippedCheaper(g)
    ? undefined
    : s2dGeometry(g, "input", blas.threads, blas.macsPerNs);
  if (d) {
    s2dBackpropInput(blas, d, dyv, wv, dxv);
    return dx;
  }
  if (flippedCheaper(g)) {
    // Stride 1: dX = im2col of dY (flipped geometry) · flipped, transposed W.
    const gt = flippedGeometry(g);
    const kt = g.kh * g.kw * g.co;
    const t = colsOf(gt, dyv);
    blas.sgemm(
      false,
      false,
      g.n * g.h * g.w,
      g.ci,
      kt,
      1,
      t,
      kt,
      flipTranspose(g, wv),
      g.ci,
      0,
      dxv,
      g.ci,
    );
    return dx;
  }
  const gp = prunedGeometry(g, activeTaps(g));
  if (gp) {
    // Kernel rows and columns that only see padding are skipped.
    const kp = gp.kh * gp.kw * g.ci;
    const run = gp.kw * g.ci;
    const [c, acc] = col2imScratch(p * kp, dxv.length);
    for (let i = 0; i < gp.kh; i++) {
      const wo = weightRow(g, gp, i);
      blas.sgemm(
        false,
        true,
        p,
        run,
        g.co,
        1,
        dyv,
        g.co,
        wv.subarray(wo, wo + run * g.co),
        g.co,
        0,
        c.subarray(i * run),
        kp,
      );
    }
    col2imInto(gp, c, acc, dxv);
    return dx;
  }
  const [c, acc] = col2imScratch(p * k, dxv.length);
  blas.sgemm(false, true, p, k, g.co, 1, dyv, g.co, wv, g.co, 0, c, k);
  col2imInto(g, c, acc, dxv);
  return dx;
}

/**
 * Offset in W (`kh × kw × ci × co`) of row `i` of the pruned kernel `gp`:
 * its `gp.kw · ci` rows of `co` are contiguous there.
 */
function weightRow(g: ConvGeometry, gp: ConvGeometry, i: number): number {
  const a = i + g.pt - gp.pt;
  const b = g.pl - gp.pl;
  return (a * g.kw + b) * g.ci * g.co;
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
  const g = geometryOf(x.shape, attrs.filterShape as number[], attrs);
  checkDy(dy, g, "Conv2DBackpropFilter");
  const dw = backend.makeOutput([g.kh, g.kw, g.ci, g.co], "float32");
  const p = g.n * g.oh * g.ow;
  const k = g.kh * g.kw * g.ci;
  const xv = heapF32(backend, x);
  const dyv = heapF32(backend, dy);
  const dwv = heapF32(backend, dw);
  const d = isPointwise(g) || flippedCheaper(g)
    ? undefined
    : s2dGeometry(g, "filter", blas.threads, blas.macsPerNs);
  if (d) {
    s2dBackpropFilter(blas, d, xv, dyv, dwv);
    return dw;
  }
  if (!isPointwise(g) && flippedCheaper(g)) {
    // Stride 1: dW'[ci, (kh', kw', co)] = Xᵀ · im2col of dY (flipped geometry).
    const gt = flippedGeometry(g);
    const kt = g.kh * g.kw * g.co;
    const rows = g.n * g.h * g.w;
    const t = colsOf(gt, dyv);
    const dwt = new Float32Array(g.ci * kt);
    blas.sgemm(true, false, g.ci, kt, rows, 1, xv, g.ci, t, kt, 0, dwt, kt);
    for (let a = 0; a < g.kh; a++) {
      for (let b = 0; b < g.kw; b++) {
        const tap = ((g.kh - 1 - a) * g.kw + (g.kw - 1 - b)) * g.co;
        for (let ci = 0; ci < g.ci; ci++) {
          const d = ((a * g.kw + b) * g.ci + ci) * g.co;
          const s = ci * kt + tap;
          for (let co = 0; co < g.co; co++) dwv[d + co] = dwt[s + co];
        }
      }
    }
    return dw;
  }
  const gp = isPointwise(g) ? undefined : prunedGeometry(g, activeTaps(g));
  if (gp) {
    // Taps that only see padding get a zero gradient.
    const kp = gp.kh * gp.kw * g.ci;
    const run = gp.kw * g.ci;
    const a = colsOf(gp, xv);
    dwv.fill(0);
    for (let i = 0; i < gp.kh; i++) {
      const wo = weightRow(g, gp, i);
      blas.sgemm(
        true,
        false,
        run,
        g.co,
        p,
        1,
        a.subarray(i * run),
        kp,
        dyv,
        g.co,
        0,
        dwv.subarray(wo, wo + run * g.co),
        g.co,
      );
    }
    return dw;
  }
  const a = isPointwise(g) ? xv : colsOf(g, xv);
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

/**
 * Stride 1 with few output channels: im2col of dY in the transposed geometry
 * (`n·h·w × kh·kw·co`) is smaller than im2col of X (`n·oh·ow × kh·kw·ci`).
 */
function flippedCheaper(g: ConvGeometry): boolean {
  return g.sh === 1 && g.sw === 1 && 2 * g.co * g.h * g.w < g.ci * g.oh * g.ow;
}

/** Stride 1, few output channels: per-tap products then a shift-and-add beat im2col. */
function shiftAddCheaper(g: ConvGeometry): boolean {
  return flippedCheaper(g);
}

/**
 * The geometry of the stride-1 convolution over dY (`oh × ow × co`) whose
 * outputs are X's pixels: kernel flipped, padding `k − 1 − pad`.
 */
function flippedGeometry(g: ConvGeometry): ConvGeometry {
  return {
    n: g.n,
    h: g.oh,
    w: g.ow,
    ci: g.co,
    kh: g.kh,
    kw: g.kw,
    co: g.ci,
    sh: 1,
    sw: 1,
    pt: g.kh - 1 - g.pt,
    pl: g.kw - 1 - g.pl,
    oh: g.h,
    ow: g.w,
  };
}

/** `Wf[(kh', kw', co), ci] = W[kh − 1 − kh', kw − 1 − kw', ci, co]` (a new array). */
function flipTranspose(g: ConvGeometry, w: Float32Array): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < g.kh; a++) {
    for (let b = 0; b < g.kw; b++) {
      const src = (a * g.kw + b) * g.ci * g.co;
      const dst = ((g.kh - 1 - a) * g.kw + (g.kw - 1 - b)) * g.co * g.ci;
      for (let ci = 0; ci < g.ci; ci++) {
        for (let co = 0; co < g.co; co++) {
          out[dst + co * g.ci + ci] = w[src + ci * g.co + co];
        }
      }
    }
  }
  return out;
}

/**
 * Stride-1 forward as `Z[:, tap] = X · W_tap` for every tap (one GEMM each,
 * into `Z[n·h·w × kh·kw·co]`), then `Y[p] = Σ_tap Z[p + tap − pad, tap]`.
 */
function shiftAddForward(
  blas: Blas,
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  out: Float32Array,
): void {
  const taps = g.kh * g.kw;
  const kt = taps * g.co;
  const rows = g.n * g.h * g.w;
  const z = cols(rows * kt);
  const block = g.ci * g.co;
  for (let tap = 0; tap < taps; tap++) {
    blas.sgemm(
      false,
      false,
      rows,
      g.co,
      g.ci,
      1,
      x,
      g.ci,
      w.subarray(tap * block, (tap + 1) * block),
      g.co,
      0,
      z.subarray(tap * g.co),
      kt,
    );
  }
  out.fill(0);
  for (let b = 0; b < g.n; b++) {
    for (let y = 0; y < g.oh; y++) {
      for (let xx = 0; xx < g.ow; xx++) {
        const o = ((b * g.oh + y) * g.ow + xx) * g.co;
        for (let a = 0; a < g.kh; a++) {
          const ih = y - g.pt + a;
          if (ih < 0 || ih >= g.h) continue;
          for (let c = 0; c < g.kw; c++) {
            const iw = xx - g.pl + c;
            if (iw < 0 || iw >= g.w) continue;
            const zi = ((b * g.h + ih) * g.w + iw) * kt + (a * g.kw + c) * g.co;
            for (let co = 0; co < g.co; co++) out[o + co] += z[zi + co];
          }
        }
      }
    }
  }
}
