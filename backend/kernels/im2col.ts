/**
 * Convolution geometry and the im2col / col2im rearrangements that turn a
 * 2-D convolution (NHWC) into one matrix product:
 *
 * - forward: `Y[P × Co] = cols(X)[P × K] · W[K × Co]`,
 * - input gradient: `dX = col2im(dY[P × Co] · Wᵀ[Co × K])`,
 * - filter gradient: `dW[K × Co] = cols(X)ᵀ[K × P] · dY[P × Co]`,
 *
 * with `P = batch · outHeight · outWidth` output pixels and
 * `K = kernelHeight · kernelWidth · inChannels`; row `p` of `cols(X)` holds
 * the input patch output pixel `p` reads, in the filter's `[kh, kw, ci]` order.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Everything about a 2-D convolution's shapes the GEMM kernels need. */
export interface ConvGeometry {
  /** Batch. */
  n: number;
  /** Input height. */
  h: number;
  /** Input width. */
  w: number;
  /** Input channels. */
  ci: number;
  /** Filter height. */
  kh: number;
  /** Filter width. */
  kw: number;
  /** Output channels. */
  co: number;
  /** Stride along height. */
  sh: number;
  /** Stride along width. */
  sw: number;
  /** Zero padding on top. */
  pt: number;
  /** Zero padding on the left. */
  pl: number;
  /** Output height. */
  oh: number;
  /** Output width. */
  ow: number;
}

/** Padding as tfjs's convolution ops take it. */
export type ConvPad =
  | "valid"
  | "same"
  | number
  | tf.backend_util.ExplicitPadding;

/** Computes the geometry of an NHWC convolution of `xShape` by `filterShape` (dilation 1). */
export function convGeometry(
  xShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  pad: ConvPad,
  dimRoundingMode?: "floor" | "round" | "ceil",
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    co: info.outChannels,
    sh: info.strideHeight,
    sw: info.strideWidth,
    pt: info.padInfo.top,
    pl: info.padInfo.left,
    oh: info.outHeight,
    ow: info.outWidth,
  };
}

/** Whether `cols(X)` is X itself (1×1 filter, stride 1, no padding). */
export function isPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 &&
    g.pl === 0 && g.oh === g.h && g.ow === g.w;
}

/**
 * Writes `cols(X)` (`P × K`, row-major) into `cols` from the NHWC input `x`.
 */
export function im2col(
  g: ConvGeometry,
  x: Float32Array,
  cols: Float32Array,
): void {
  const { n, h, w, ci, kh, kw, sh, sw, pt, pl, oh, ow } = g;
  const run = kw * ci;
  let o = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * ci;
    for (let y = 0; y < oh; y++) {
      const ih0 = y * sh - pt;
      for (let xx = 0; xx < ow; xx++) {
        const iw0 = xx * sw - pl;
        const jl = iw0 < 0 ? -iw0 : 0;
        const jr = iw0 + kw > w ? w - iw0 : kw;
        for (let i = 0; i < kh; i++) {
          const ih = ih0 + i;
          if (ih < 0 || ih >= h || jr <= jl) {
            cols.fill(0, o, o + run);
            o += run;
            continue;
          }
          if (jl > 0) cols.fill(0, o, o + jl * ci);
          const s = xb + (ih * w + iw0 + jl) * ci;
          const len = (jr - jl) * ci;
          const d = o + jl * ci;
          if (len >= 64) cols.set(x.subarray(s, s + len), d);
          else for (let k = 0; k < len; k++) cols[d + k] = x[s + k];
          if (jr < kw) cols.fill(0, o + jr * ci, o + run);
          o += run;
        }
      }
    }
  }
}

/**
 * Adds `cols` (`P × K`, row-major, as {@linkcode im2col} lays it out) back
 * into the NHWC tensor `dx`, which the caller has zeroed: the adjoint of
 * im2col, i.e. the input gradient from the per-pixel patch gradients.
 */
export function col2imAdd(
  g: ConvGeometry,
  cols: Float32Array,
  dx: Float32Array,
): void {
  const { n, h, w, ci, kh, kw, sh, sw, pt, pl, oh, ow } = g;
  const run = kw * ci;
  let o = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * ci;
    for (let y = 0; y < oh; y++) {
      const ih0 = y * sh - pt;
      for (let xx = 0; xx < ow; xx++) {
        const iw0 = xx * sw - pl;
        const jl = iw0 < 0 ? -iw0 : 0;
        const jr = iw0 + kw > w ? w - iw0 : kw;
        for (let i = 0; i < kh; i++) {
          const ih = ih0 + i;
          if (ih >= 0 && ih < h && jr > jl) {
            const d = xb + (ih * w + iw0 + jl) * ci;
            const s = o + jl * ci;
            const len = (jr - jl) * ci;
            for (let k = 0; k < len; k++) dx[d + k] += cols[s + k];
          }
          o += run;
        }
      }
    }
  }
}
