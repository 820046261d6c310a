/**
 * Convolutions whose kernel is a multiple of the stride (pix2pix's 4×4
 * stride-2 layers, PatchGAN's 4×4 stride-1 ones) as an implicit GEMM, with no
 * im2col / col2im matrix:
 *
 * 1. space-to-depth: `S[I, J, (u, v, c)] = X[I·sh + u − pt, J·sw + v − pl, c]`
 *    (zero outside X), one pass the size of X; the convolution becomes a
 *    `(kh/sh) × (kw/sw)` stride-1 convolution over `sh·sw·ci` channels with
 *    the regrouped filter `W'[p, q][(u, v, c), co] = W[p·sh + u, q·sw + v, c, co]`;
 * 2. "shifted pointer" products: with S row-major, the rows of S read by tap
 *    `(p, q)` for the output pixels of a row-major grid `Hs × Ws` are S itself
 *    shifted by `p·Ws + q` pixels, so each tap is one `sgemm` on a view of S,
 *    accumulated (`beta = 1`) over the padded width `Ws`; the extra columns
 *    (and rows between batch entries) are dropped when the result is copied
 *    out.
 *
 * The input gradient is the adjoint (a "full" correlation of zero-padded dY
 * with the transposed taps, then depth-to-space), the filter gradient one
 * `Sᵀ · dY` product per tap with dY laid out on the same padded grid.
 *
 * @module
 */
import type { Blas } from "./blas.ts";
import type { ConvGeometry } from "./im2col.ts";
import { releaseArena, scratchViews } from "./scratch_arena.ts";
import {
  filterGradScratch,
  winogradFilterGrad,
  winogradFilterScratchSizes,
  winogradFilterTile,
} from "./winograd_filter.ts";
import {
  type GridCorrelation,
  releaseWinogradScratch,
  winogradCorrelate,
  winogradScratch,
  winogradScratchSizes,
  winogradTile,
  type WinogradTileOptions,
} from "./winograd.ts";

/** The space-to-depth form of a convolution (see the module doc). */
export interface S2dGeometry {
  /** The convolution. */
  g: ConvGeometry;
  /** Taps along height of the stride-1 convolution over S (`kh / sh`). */
  th: number;
  /** Taps along width (`kw / sw`). */
  tw: number;
  /** Channels of S (`sh · sw · ci`). */
  s: number;
  /** Rows of S per batch entry (`oh + th − 1`). */
  hs: number;
  /** Columns of S (`ow + tw − 1`). */
  ws: number;
}

/** Releases the scratch memory (it grows to the largest layer seen). */
export function releaseS2dScratch(): void {
  releaseArena();
  releaseWinogradScratch();
}

/** When the space-to-depth path runs: where it is cheaper (`"auto"`), wherever it applies, or never. */
export type S2dMode = "auto" | "always" | "off";

let mode: S2dMode = "auto";

/** Sets when the space-to-depth path runs (for tests and benchmarks); returns the previous mode. */
export function setS2dMode(next: S2dMode): S2dMode {
  if (next !== "auto" && next !== "always" && next !== "off") {
    throw new RangeError(
      `setS2dMode: expected "auto", "always" or "off", received ${
        JSON.stringify(next)
      }`,
    );
  }
  const was = mode;
  mode = next;
  return was;
}

/**
 * The space-to-depth form of `g`, or `undefined` when it does not apply (a
 * kernel that is not a multiple of the stride, a 1×1 kernel) or would do
 * more work than im2col (small outputs, where the padded grid's extra
 * rows and columns cost more than the im2col matrix saves, unless Winograd
 * runs there on `threads` BLAS threads doing `macsPerNs` multiply-adds a
 * nanosecond each, see `winograd.ts`).
 */
export function s2dGeometry(
  g: ConvGeometry,
  grad: "forward" | "input" | "filter",
  threads = 1,
  macsPerNs = 50,
): S2dGeometry | undefined {
  if (mode === "off") return undefined;
  if (g.kh % g.sh !== 0 || g.kw % g.sw !== 0) return undefined;
  const th = g.kh / g.sh;
  const tw = g.kw / g.sw;
  if (th * tw === 1) return undefined;
  const hs = g.oh + th - 1;
  const ws = g.ow + tw - 1;
  const s = g.sh * g.sw * g.ci;
  const d: S2dGeometry = { g, th, tw, s, hs, ws };
  // Work of the padded grid relative to the convolution's own.
  const grid = grad === "input"
    ? (hs * (ws + tw - 1)) / (g.oh * g.ow)
    : (hs * ws) / (g.oh * g.ow);
  if (mode === "auto") {
    // Measured on pix2pix's layers: a win for 4×4 stride 2 on ≥ 32×32
    // outputs, except the gradients of few-channel inputs (the RGB image),
    // whose products over `s` columns or rows are too thin; and wherever
    // Winograd's products beat im2col's (they skip the padded grid), which
    // more than 2×2 taps need.
    if (grad !== "forward" && s < 16) return undefined;
    if (grid > 1.1 || th * tw > 4) {
      // The filter gradient's products are the forward pass's, transposed.
      const c = grad === "input" ? inputCorrelation(d) : forwardCorrelation(d);
      const im2col = th * tw * g.n * g.oh * g.ow * s * g.co;
      const speed = { direct: im2col, threads, macsPerNs };
      if (!c.r || !winogradTile(c, speed)) {
        return undefined;
      }
    }
  }
  return d;
}

/** What Winograd's cost model needs to know of `blas`. */
function blasSpeed(blas: Blas): WinogradTileOptions {
  return { threads: blas.threads, macsPerNs: blas.macsPerNs };
}

/** The filter side of the correlation over S (2 or 4), or 0 where none fits Winograd. */
function side(d: S2dGeometry): number {
  return d.th === d.tw && (d.th === 2 || d.th === 4) ? d.th : 0;
}

/** The stride-1 correlation over S that {@linkcode s2dForward} computes. */
function forwardCorrelation(d: S2dGeometry): GridCorrelation {
  const { g } = d;
  return {
    n: g.n,
    rows: d.hs,
    cols: d.ws,
    k: d.s,
    r: side(d),
    oh: g.oh,
    ow: g.ow,
    co: g.co,
    outRows: g.oh,
    outCols: g.ow,
  };
}

/** The "full" correlation over padded dY that {@linkcode s2dBackpropInput} computes. */
function inputCorrelation(d: S2dGeometry): GridCorrelation {
  const hq = d.hs + d.th - 1;
  const wq = d.ws + d.tw - 1;
  return {
    n: d.g.n,
    rows: hq,
    cols: wq,
    k: d.g.co,
    r: side(d),
    oh: d.hs,
    ow: d.ws,
    co: d.s,
    outRows: hq,
    outCols: wq,
  };
}

/** Writes S (`n·hs·ws` pixels of `s` channels, then `tw` zero pixels) into `out`. */
function spaceToDepth(
  d: S2dGeometry,
  x: Float32Array,
  out: Float32Array,
): void {
  const { g, s, hs, ws } = d;
  const { n, h, w, ci, sh, sw, pt, pl } = g;
  const run = sw * ci;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < hs; i++) {
      for (let u = 0; u < sh; u++) {
        const xr = i * sh + u - pt;
        let o = ((b * hs + i) * ws) * s + u * run;
        if (xr < 0 || xr >= h) {
          for (let j = 0; j < ws; j++, o += s) out.fill(0, o, o + run);
          continue;
        }
        const rowBase = (b * h + xr) * w;
        for (let j = 0; j < ws; j++, o += s) {
          const xc = j * sw - pl;
          if (xc >= 0 && xc + sw <= w) {
            const src = (rowBase + xc) * ci;
            for (let k = 0; k < run; k++) out[o + k] = x[src + k];
          } else {
            for (let v = 0; v < sw; v++) {
              const c = xc + v;
              const dst = o + v * ci;
              if (c < 0 || c >= w) out.fill(0, dst, dst + ci);
              else {
                const src = (rowBase + c) * ci;
                for (let k = 0; k < ci; k++) out[dst + k] = x[src + k];
              }
            }
          }
        }
      }
    }
  }
  const end = n * hs * ws * s;
  out.fill(0, end, end + d.tw * s);
}

/** The `count` tap blocks of `size` in `wr`, in order or reversed (the flipped filter). */
function tapBlocks(
  wr: Float32Array,
  count: number,
  size: number,
  flipped: boolean,
): Float32Array[] {
  return Array.from({ length: count }, (_, t) => {
    const at = flipped ? count - 1 - t : t;
    return wr.subarray(at * size, (at + 1) * size);
  });
}

/** Whether W must be regrouped (stride > 1; for stride 1, W' is W). */
function strided(d: S2dGeometry): boolean {
  return d.g.sh !== 1 || d.g.sw !== 1;
}

/**
 * `W'` (`th·tw` blocks of `s × co`) from W into `out`; for stride 1, W
 * itself, or a copy in `out` with `copy` (where the Winograd transforms'
 * SIMD loops read it: they work on the scratch arena).
 */
function regroup(
  d: S2dGeometry,
  w: Float32Array,
  out: Float32Array,
  copy = false,
): Float32Array {
  const { g, th, tw, s } = d;
  if (!strided(d)) {
    if (!copy) return w;
    out.set(w.subarray(0, out.length));
    return out;
  }
  const len = g.sw * g.ci * g.co;
  for (let p = 0; p < th; p++) {
    for (let q = 0; q < tw; q++) {
      for (let u = 0; u < g.sh; u++) {
        const src = ((p * g.sh + u) * g.kw + q * g.sw) * g.ci * g.co;
        const dst = ((p * tw + q) * s + u * g.sw * g.ci) * g.co;
        out.set(w.subarray(src, src + len), dst);
      }
    }
  }
  return out;
}

/** `Y = conv(X, W) (+ bias)` through S; `out` is `n × oh × ow × co`. */
export function s2dForward(
  blas: Blas,
  d: S2dGeometry,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
): void {
  const { g, th, tw, s, hs, ws } = d;
  const co = g.co;
  const c = forwardCorrelation(d);
  const tile = c.r ? winogradTile(c, blasSpeed(blas)) : undefined;
  const m = ((g.n - 1) * hs + g.oh) * ws;
  const [sx, wrBuf, y, ...wg] = scratchViews([
    (g.n * hs * ws + tw) * s,
    strided(d) || tile ? th * tw * s * co : 0,
    tile ? g.n * g.oh * g.ow * co : m * co,
    ...(tile ? winogradScratchSizes(c, tile) : []),
  ]);
  spaceToDepth(d, x, sx);
  const wr = regroup(d, w, wrBuf, tile !== undefined);
  if (tile) {
    const taps = tapBlocks(wr, th * tw, s * co, false);
    const w4 = { taps, layout: "kn" as const };
    winogradCorrelate(blas, c, tile, sx, w4, bias, y, winogradScratch(wg));
    out.set(y);
    return;
  }
  if (bias !== null) fillRows(y, bias, co);
  for (let p = 0; p < th; p++) {
    for (let q = 0; q < tw; q++) {
      const tap = p * tw + q;
      blas.sgemm(
        false,
        false,
        m,
        co,
        s,
        1,
        sx.subarray((p * ws + q) * s),
        s,
        wr.subarray(tap * s * co, (tap + 1) * s * co),
        co,
        tap === 0 && bias === null ? 0 : 1,
        y,
        co,
      );
    }
  }
  const run = g.ow * co;
  for (let b = 0; b < g.n; b++) {
    for (let i = 0; i < g.oh; i++) {
      const src = ((b * hs + i) * ws) * co;
      const dst = ((b * g.oh + i) * g.ow) * co;
      out.set(y.subarray(src, src + run), dst);
    }
  }
}

/**
 * Fills `out` with `bias` repeated (a row of `co` channels, or one value for
 * all), by doubling copies.
 */
export function fillRows(
  out: Float32Array,
  bias: Float32Array,
  co: number,
): void {
  if (bias.length === 1) {
    out.fill(bias[0]);
    return;
  }
  if (out.length === 0) return;
  out.set(bias.subarray(0, Math.min(co, out.length)));
  for (let len = co; len < out.length; len *= 2) {
    out.copyWithin(len, 0, Math.min(len, out.length - len));
  }
}

/** `dX` (`n × h × w × ci`) of the convolution from `dY` through S. */
export function s2dBackpropInput(
  blas: Blas,
  d: S2dGeometry,
  dy: Float32Array,
  w: Float32Array,
  dx: Float32Array,
): void {
  const { g, th, tw, s, hs, ws } = d;
  const co = g.co;
  const wq = ws + tw - 1;
  const hq = hs + th - 1;
  const c = inputCorrelation(d);
  const tile = c.r ? winogradTile(c, blasSpeed(blas)) : undefined;
  const m = ((g.n - 1) * hq + hs) * wq;
  // dY on a zero-padded grid hq × wq, at offset (th − 1, tw − 1).
  const [dyq, wrBuf, ds, ...wg] = scratchViews([
    (g.n * hq * wq + tw) * co,
    strided(d) || tile ? th * tw * s * co : 0,
    m * s,
    ...(tile ? winogradScratchSizes(c, tile) : []),
  ]);
  dyq.fill(0);
  const run = g.ow * co;
  for (let b = 0; b < g.n; b++) {
    for (let i = 0; i < g.oh; i++) {
      const src = ((b * g.oh + i) * g.ow) * co;
      const dst = ((b * hq + i + th - 1) * wq + tw - 1) * co;
      dyq.set(dy.subarray(src, src + run), dst);
    }
  }
  const wr = regroup(d, w, wrBuf, tile !== undefined);
  if (tile) {
    // Correlation tap (p, q) is the flipped tap's block, transposed.
    const taps = tapBlocks(wr, th * tw, s * co, true);
    const w4 = { taps, layout: "nk" as const };
    winogradCorrelate(blas, c, tile, dyq, w4, null, ds, winogradScratch(wg));
  } else {
    for (let p = 0; p < th; p++) {
      for (let q = 0; q < tw; q++) {
        const tap = p * tw + q;
        blas.sgemm(
          false,
          true,
          m,
          s,
          co,
          1,
          dyq.subarray(((th - 1 - p) * wq + (tw - 1 - q)) * co),
          co,
          wr.subarray(tap * s * co, (tap + 1) * s * co),
          co,
          tap === 0 ? 0 : 1,
          ds,
          s,
        );
      }
    }
  }
  // Depth-to-space: X pixels S does not cover get no gradient.
  const { n, h, ci, sh, sw, pt, pl } = g;
  const wx = g.w;
  dx.fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < hs; i++) {
      for (let u = 0; u < sh; u++) {
        const xr = i * sh + u - pt;
        if (xr < 0 || xr >= h) continue;
        const rowBase = (b * h + xr) * wx;
        for (let j = 0; j < ws; j++) {
          const src0 = ((b * hq + i) * wq + j) * s + u * sw * ci;
          const xc = j * sw - pl;
          if (xc >= 0 && xc + sw <= wx) {
            const dst = (rowBase + xc) * ci;
            const len = sw * ci;
            for (let k = 0; k < len; k++) dx[dst + k] = ds[src0 + k];
          } else {
            for (let v = 0; v < sw; v++) {
              const c = xc + v;
              if (c < 0 || c >= wx) continue;
              const dst = (rowBase + c) * ci;
              const src = src0 + v * ci;
              for (let k = 0; k < ci; k++) dx[dst + k] = ds[src + k];
            }
          }
        }
      }
    }
  }
}

/** `dW` (`kh × kw × ci × co`) of the convolution from X and dY through S. */
export function s2dBackpropFilter(
  blas: Blas,
  d: S2dGeometry,
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
): void {
  const { g, th, tw, s, hs, ws } = d;
  const co = g.co;
  // dY on S's grid (hs × ws a batch entry), zero in the extra columns and rows.
  const c = { ...forwardCorrelation(d), outRows: hs, outCols: ws };
  const tile = c.r ? winogradFilterTile(c, blasSpeed(blas)) : undefined;
  const m = ((g.n - 1) * hs + g.oh) * ws;
  const direct = !strided(d);
  const [sx, dyp, dwBuf, ...wg] = scratchViews([
    (g.n * hs * ws + tw) * s,
    (tile ? g.n * hs * ws : m) * co,
    direct && !tile ? 0 : th * tw * s * co,
    ...(tile ? winogradFilterScratchSizes(c, tile) : []),
  ]);
  spaceToDepth(d, x, sx);
  dyp.fill(0);
  const run = g.ow * co;
  for (let b = 0; b < g.n; b++) {
    for (let i = 0; i < g.oh; i++) {
      const src = ((b * g.oh + i) * g.ow) * co;
      const dst = ((b * hs + i) * ws) * co;
      dyp.set(dy.subarray(src, src + run), dst);
    }
  }
  const dwr = direct && !tile ? dw : dwBuf;
  if (tile) {
    const taps = tapBlocks(dwr, th * tw, s * co, false);
    const scratch = filterGradScratch(wg);
    winogradFilterGrad(blas, c, tile, sx, dyp, taps, scratch);
  } else {
    for (let p = 0; p < th; p++) {
      for (let q = 0; q < tw; q++) {
        const tap = p * tw + q;
        blas.sgemm(
          true,
          false,
          s,
          co,
          m,
          1,
          sx.subarray((p * ws + q) * s),
          s,
          dyp,
          co,
          0,
          dwr.subarray(tap * s * co, (tap + 1) * s * co),
          co,
        );
      }
    }
  }
  if (direct) {
    if (dwr !== dw) dw.set(dwr);
    return;
  }
  const len = g.sw * g.ci * co;
  for (let p = 0; p < th; p++) {
    for (let q = 0; q < tw; q++) {
      for (let u = 0; u < g.sh; u++) {
        const dst = ((p * g.sh + u) * g.kw + q * g.sw) * g.ci * co;
        const src = ((p * tw + q) * s + u * g.sw * g.ci) * co;
        dw.set(dwr.subarray(src, src + len), dst);
      }
    }
  }
}
