/**
 * A 2×2 stride-1 correlation over a grid of pixels by Winograd's minimal
 * filtering algorithm F(m×m, 2×2) (Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016): the core of the space-to-depth
 * convolutions (`s2d_conv.ts`), where every 4×4 stride-2 layer of pix2pix,
 * and its transposed twin, becomes such a correlation over 4× the channels.
 *
 * For output tiles of m×m pixels (m = 2 or 3), each `(m+1)×(m+1)` input tile
 * `d` and each 2×2 filter `g` are transformed (`U = Bᵀ·d·B`, `V = G·g·Gᵀ`),
 * the `(m+1)²` transformed positions are `(m+1)²` independent products
 * `M_ξ[tiles × N] = U_ξ[tiles × K] · V_ξ[K × N]` on the BLAS, and
 * `Y = Aᵀ·M·A` gives the tile. That is `(m+1)²` multiplications for `4m²`:
 * 1.78× fewer at m = 2, 2.25× at m = 3. The transforms' coefficients are
 * 0, ±1 and ±½ (exact in floating point), so the results differ from a
 * direct correlation only by rounding.
 *
 * The transforms are plain loops over the channels (innermost, contiguous);
 * {@linkcode winogradTile} picks m, or no Winograd at all, from the
 * products' sizes.
 *
 * @module
 */
import type { Blas } from "./blas.ts";
import { arenaSimd, inArena, type WinogradSimd } from "./scratch_arena.ts";

/** A 2×2 stride-1 "valid" correlation of a grid (see the module doc). */
export interface GridCorrelation {
  /** Batch entries. */
  n: number;
  /** Grid rows per batch entry. */
  rows: number;
  /** Grid columns (the row pitch, in pixels). */
  cols: number;
  /** Channels of a grid pixel (the products' inner dimension). */
  k: number;
  /** Output rows per batch entry computed (at most `rows − 1`). */
  oh: number;
  /** Output columns computed (at most `cols − 1`). */
  ow: number;
  /** Output channels. */
  co: number;
  /** Rows per batch entry of the output array (at least `oh`). */
  outRows: number;
  /** Columns of the output array (its row pitch, at least `ow`). */
  outCols: number;
}

/**
 * The four taps `[g00, g01, g10, g11]` (tap `(p, q)` reads grid pixel
 * `(i + p, j + q)` for output `(i, j)`), each a `k × co` matrix (`"kn"`,
 * row-major) or a `co × k` one (`"nk"`).
 */
export interface GridTaps {
  /** The tap matrices, in the order `(0,0), (0,1), (1,0), (1,1)`. */
  taps: Float32Array[];
  /** Their layout. */
  layout: "kn" | "nk";
}

/** Scratch buffers kept between calls (off the wasm heap), by slot. */
const scratch: Float32Array[] = [];

function buffer(slot: number, size: number): Float32Array {
  const b = scratch[slot];
  if (b === undefined || b.length < size) {
    scratch[slot] = new Float32Array(Math.ceil(size * 1.25));
  }
  return scratch[slot].subarray(0, size);
}

/** Releases the scratch buffers (they grow to the largest layer seen). */
export function releaseWinogradScratch(): void {
  scratch.length = 0;
}

/** Options of {@linkcode winogradTile}. */
export interface WinogradTileOptions {
  /** Multiply-adds of the direct products it competes with. @default the shifted-view products on the whole grid */
  direct?: number;
  /** Threads the BLAS runs products on. @default 1 */
  threads?: number;
}

/** When Winograd runs: where it is cheaper (`"auto"`), always with m = 2 or 3, or never. */
export type WinogradMode = "auto" | "f2" | "f3" | "off";

let mode: WinogradMode = "auto";

/** Sets when Winograd runs (for tests and benchmarks); returns the previous mode. */
export function setWinogradMode(next: WinogradMode): WinogradMode {
  if (!["auto", "f2", "f3", "off"].includes(next)) {
    throw new RangeError(
      `setWinogradMode: expected "auto", "f2", "f3" or "off", received ${
        JSON.stringify(next)
      }`,
    );
  }
  const was = mode;
  mode = next;
  return was;
}

/**
 * The output tile side m (2 or 3) for `c`, or 0 where the direct products
 * are cheaper (`options.direct` multiply-adds, by default the shifted-view
 * products on the whole grid, `4·n·rows·cols·k·co`). The model, in
 * multiply-adds on `options.threads` BLAS threads: the
 * products' `(m+1)²·tiles·k·co`, plus the
 * transforms' values written and read (U and M: `(m+1)²·tiles·(k + co)`;
 * V: `((m+1)² − 4)·k·co`) at about {@linkcode SIMD_TRANSFORM_COST} multiply-adds'
 * time each where the SIMD loops run (channels in fours), else
 * {@linkcode JS_TRANSFORM_COST} (measured on pix2pix's layers with one
 * thread, where the BLAS does ~50 G multiply-adds/s) times the threads (the
 * transforms run on one), and no Winograd on under 32 tiles (100 with more
 * than one thread), where the products are too short to run at full speed.
 */
export function winogradTile(
  c: GridCorrelation,
  options: WinogradTileOptions = {},
): 0 | 2 | 3 {
  if (mode === "off") return 0;
  if (mode === "f2") return 2;
  if (mode === "f3") return 3;
  const threads = Math.max(1, options.threads ?? 1);
  const direct = options.direct ?? 4 * c.n * c.rows * c.cols * c.k * c.co;
  const kn = c.k * c.co;
  const simd = c.k % 4 === 0 && c.co % 4 === 0 && arenaSimd() !== null;
  // The transforms run on one thread, the products on all of them.
  const perValue = threads * (simd ? SIMD_TRANSFORM_COST : JS_TRANSFORM_COST);
  const fewest = threads > 1 ? 100 : 32;
  let best: 0 | 2 | 3 = 0;
  let bestCost = direct;
  for (const m of [2, 3] as const) {
    const tiles = c.n * Math.ceil(c.oh / m) * Math.ceil(c.ow / m);
    if (tiles < fewest) continue;
    const a2 = (m + 1) * (m + 1);
    const values = a2 * tiles * (c.k + c.co) + (a2 - 4) * kn;
    const cost = a2 * tiles * kn + perValue * values;
    if (cost < bestCost) {
      best = m;
      bestCost = cost;
    }
  }
  return best;
}

/** A transformed value's cost in the BLAS's multiply-adds, SIMD loops (see {@linkcode winogradTile}). */
const SIMD_TRANSFORM_COST = 20;
/** The same for the JavaScript loops. */
const JS_TRANSFORM_COST = 60;

/** The scratch buffers of one {@linkcode winogradCorrelate} call. */
export interface WinogradScratch {
  /** The transformed filter: `(m+1)²` blocks of `k·co`, {@linkcode padded} apart. */
  v: Float32Array;
  /** The transformed input: `(m+1)²` blocks of `tiles·k`. */
  u: Float32Array;
  /** The products: `(m+1)²` blocks of `tiles·co`. */
  mm: Float32Array;
  /** One zero-padded input tile (`(m+1)²·k`). */
  tileIn: Float32Array;
  /** One output tile (`m²·co`). */
  tileOut: Float32Array;
  /** The bias row (`co`). */
  bias: Float32Array;
}

/** The sizes (floats) of the {@linkcode WinogradScratch} buffers, in its order. */
export function winogradScratchSizes(
  c: GridCorrelation,
  m: 2 | 3,
): number[] {
  const a2 = (m + 1) * (m + 1);
  const tiles = c.n * Math.ceil(c.oh / m) * Math.ceil(c.ow / m);
  return [
    a2 * padded(c.k * c.co),
    a2 * padded(tiles * c.k),
    a2 * padded(tiles * c.co),
    a2 * c.k,
    m * m * c.co,
    c.co,
  ];
}

/** The {@linkcode WinogradScratch} of views in the order of {@linkcode winogradScratchSizes}. */
export function winogradScratch(views: Float32Array[]): WinogradScratch {
  const [v, u, mm, tileIn, tileOut, bias] = views;
  return { v, u, mm, tileIn, tileOut, bias };
}

function jsScratch(c: GridCorrelation, m: 2 | 3): WinogradScratch {
  const [v, u, mm, tileIn, tileOut, bias] = winogradScratchSizes(c, m).map(
    (size, slot) => buffer(slot, size),
  );
  return { v, u, mm, tileIn, tileOut, bias };
}

/**
 * The SIMD transforms, where every buffer of the call lies in the scratch
 * arena and the channels come in fours; else `null` (the JavaScript loops).
 */
function simdFor(
  c: GridCorrelation,
  views: Float32Array[],
): WinogradSimd | null {
  if (c.k % 4 !== 0 || c.co % 4 !== 0) return null;
  if (!views.every(inArena)) return null;
  return arenaSimd();
}

/**
 * `out[b, i, j, :] = Σ_{p,q} grid[b, i + p, j + q, :] · tap(p, q)` (+ bias)
 * for `i < oh`, `j < ow`, by F(m×m, 2×2) with `m` from
 * {@linkcode winogradTile} (which must not be 0). Grid pixels beyond `rows`
 * or `cols` read as zero; output pixels outside `oh × ow` are left as they
 * are. The transforms run as SIMD loops where `grid`, the taps, `out` and
 * `scratch` all lie in the scratch arena (`scratch_arena.ts`) and `k` and
 * `co` are multiples of 4, else as JavaScript loops (with `scratch`, by
 * default, off the wasm heap).
 */
export function winogradCorrelate(
  blas: Blas,
  c: GridCorrelation,
  m: 2 | 3,
  grid: Float32Array,
  w: GridTaps,
  bias: Float32Array | null,
  out: Float32Array,
  scratch: WinogradScratch = jsScratch(c, m),
): void {
  const a = m + 1;
  const tiles = c.n * Math.ceil(c.oh / m) * Math.ceil(c.ow / m);
  const kn = c.k * c.co;
  const { v, u, mm } = scratch;
  biasRow(bias, c.co, scratch.bias);
  const simd = simdFor(c, [
    grid,
    out,
    ...w.taps,
    ...Object.values(scratch) as Float32Array[],
  ]);
  weightTransform(m, w.taps, kn, v, simd);
  inputTransform(c, m, grid, scratch, simd);
  const nk = w.layout === "nk";
  for (let xi = 0; xi < a * a; xi++) {
    blas.sgemm(
      false,
      nk,
      tiles,
      c.co,
      c.k,
      1,
      u.subarray(xi * padded(tiles * c.k)),
      c.k,
      corner(m, xi, w.taps) ?? v.subarray(xi * padded(kn)),
      nk ? c.k : c.co,
      0,
      mm.subarray(xi * padded(tiles * c.co)),
      c.co,
    );
  }
  outputTransform(c, m, scratch, out, simd);
}

/**
 * The distance between the `(m+1)²` blocks of U, V and M: their size plus a
 * cache line, so that the transforms' streams (one a block) do not all map to
 * the same cache sets, as they do when the blocks are a multiple of 4 KiB
 * apart (which costs the F(3×3) transforms several times their time).
 */
function padded(size: number): number {
  return size + 16;
}

/**
 * `V_ξ` at a corner of the transformed filter, which is a tap itself
 * (`G`'s first and last rows pick one tap value), or `undefined`.
 */
function corner(
  m: 2 | 3,
  xi: number,
  taps: Float32Array[],
): Float32Array | undefined {
  const a = m + 1;
  if (xi === 0) return taps[0];
  if (xi === a - 1) return taps[1];
  if (xi === a * (a - 1)) return taps[2];
  if (xi === a * a - 1) return taps[3];
  return undefined;
}

/**
 * `V_ξ = (G·g·Gᵀ)_ξ` for every matrix entry, `(m+1)²` blocks of `kn` a
 * padded block apart; the corners (see {@linkcode corner}) are not written.
 */
function weightTransform(
  m: 2 | 3,
  taps: Float32Array[],
  kn: number,
  v: Float32Array,
  simd: WinogradSimd | null,
): void {
  const [t00, t01, t10, t11] = taps;
  const ks = padded(kn);
  for (const t of taps) {
    if (t.length < kn) {
      throw new RangeError(
        `winogradCorrelate: a tap has ${t.length} values, expected ${kn}`,
      );
    }
  }
  if (simd !== null) {
    (m === 2 ? simd.w2 : simd.w3)(
      t00.byteOffset,
      t01.byteOffset,
      t10.byteOffset,
      t11.byteOffset,
      v.byteOffset,
      4 * ks,
      4 * kn,
    );
    return;
  }
  if (m === 2) {
    // G = [[1, 0], [1, 1], [0, 1]].
    for (let e = 0; e < kn; e++) {
      const g00 = t00[e], g01 = t01[e], g10 = t10[e], g11 = t11[e];
      const s0 = g00 + g01, s1 = g10 + g11;
      const c0 = g00 + g10, c1 = s0 + s1, c2 = g01 + g11;
      v[ks + e] = s0;
      v[3 * ks + e] = c0;
      v[4 * ks + e] = c1;
      v[5 * ks + e] = c2;
      v[7 * ks + e] = s1;
    }
    return;
  }
  // G = [[1, 0], [½, ½], [½, −½], [0, 1]].
  for (let e = 0; e < kn; e++) {
    const g00 = t00[e], g01 = t01[e], g10 = t10[e], g11 = t11[e];
    // Along columns (q), each row p: h_p = [g_p0, (g_p0+g_p1)/2, (g_p0−g_p1)/2, g_p1].
    const h01 = 0.5 * (g00 + g01), h02 = 0.5 * (g00 - g01);
    const h11 = 0.5 * (g10 + g11), h12 = 0.5 * (g10 - g11);
    // Along rows: V[0] = h0, V[1] = (h0+h1)/2, V[2] = (h0−h1)/2, V[3] = h1.
    v[ks + e] = h01;
    v[2 * ks + e] = h02;
    v[4 * ks + e] = 0.5 * (g00 + g10);
    v[5 * ks + e] = 0.5 * (h01 + h11);
    v[6 * ks + e] = 0.5 * (h02 + h12);
    v[7 * ks + e] = 0.5 * (g01 + g11);
    v[8 * ks + e] = 0.5 * (g00 - g10);
    v[9 * ks + e] = 0.5 * (h01 - h11);
    v[10 * ks + e] = 0.5 * (h02 - h12);
    v[11 * ks + e] = 0.5 * (g01 - g11);
    v[13 * ks + e] = h11;
    v[14 * ks + e] = h12;
  }
}

/**
 * `U_ξ[tile, :]` for every tile (row-major over batch, tile row, tile
 * column): tiles that reach past the grid are first copied, zero-padded,
 * into `scratch.tileIn`.
 */
function inputTransform(
  c: GridCorrelation,
  m: 2 | 3,
  grid: Float32Array,
  scratch: WinogradScratch,
  simd: WinogradSimd | null,
): void {
  const a = m + 1;
  const th = Math.ceil(c.oh / m);
  const tw = Math.ceil(c.ow / m);
  const tk = padded(c.n * th * tw * c.k);
  const k = c.k;
  const rowPitch = c.cols * k;
  const { u, tileIn } = scratch;
  const js = m === 2 ? inputTile2 : inputTile3;
  const vec = simd === null ? null : m === 2 ? simd.in2 : simd.in3;
  // Tiles of a row inside the grid's columns.
  const inside = c.cols >= a
    ? Math.min(tw, Math.floor((c.cols - a) / m) + 1)
    : 0;
  let t = 0;
  for (let b = 0; b < c.n; b++) {
    for (let i = 0; i < th; i++) {
      const r0 = i * m;
      const rowBase = (b * c.rows + r0) * rowPitch;
      let j = 0;
      if (r0 + a <= c.rows) {
        if (vec !== null && inside > 0) {
          vec(
            grid.byteOffset + 4 * rowBase,
            4 * rowPitch,
            4 * k,
            inside,
            4 * m * k,
            u.byteOffset + 4 * t * k,
            4 * tk,
          );
          t += inside;
          j = inside;
        } else {
          for (; j < inside; j++, t++) {
            js(grid, rowBase + j * m * k, rowPitch, k, u, t * k, tk);
          }
        }
      }
      for (; j < tw; j++, t++) {
        const c0 = j * m;
        tileIn.fill(0);
        for (let p = 0; p < a && r0 + p < c.rows; p++) {
          const len = Math.max(0, Math.min(a, c.cols - c0)) * k;
          const src = rowBase + p * rowPitch + c0 * k;
          tileIn.set(grid.subarray(src, src + len), p * a * k);
        }
        if (vec !== null) {
          vec(
            tileIn.byteOffset,
            4 * a * k,
            4 * k,
            1,
            0,
            u.byteOffset + 4 * t * k,
            4 * tk,
          );
        } else js(tileIn, 0, a * k, k, u, t * k, tk);
      }
    }
  }
}

/** F(2×2, 2×2) input tile: `Bᵀ = [[1, −1, 0], [0, 1, 0], [0, −1, 1]]` on both axes. */
function inputTile2(
  g: Float32Array,
  base: number,
  rp: number,
  k: number,
  u: Float32Array,
  uo: number,
  tk: number,
): void {
  for (let ch = 0; ch < k; ch++) {
    const o = base + ch;
    const d00 = g[o], d01 = g[o + k], d02 = g[o + 2 * k];
    const d10 = g[o + rp], d11 = g[o + rp + k], d12 = g[o + rp + 2 * k];
    const o2 = o + 2 * rp;
    const d20 = g[o2], d21 = g[o2 + k], d22 = g[o2 + 2 * k];
    // Rows: r0 = d0 − d1, r1 = d1, r2 = d2 − d1.
    const a0 = d00 - d10, a1 = d01 - d11, a2 = d02 - d12;
    const c0 = d20 - d10, c1 = d21 - d11, c2 = d22 - d12;
    const x = uo + ch;
    u[x] = a0 - a1;
    u[x + tk] = a1;
    u[x + 2 * tk] = a2 - a1;
    u[x + 3 * tk] = d10 - d11;
    u[x + 4 * tk] = d11;
    u[x + 5 * tk] = d12 - d11;
    u[x + 6 * tk] = c0 - c1;
    u[x + 7 * tk] = c1;
    u[x + 8 * tk] = c2 - c1;
  }
}

/** F(3×3, 2×2) input tile: `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, −1, 0, 1]]`. */
function inputTile3(
  g: Float32Array,
  base: number,
  rp: number,
  k: number,
  u: Float32Array,
  uo: number,
  tk: number,
): void {
  const k2 = 2 * k, k3 = 3 * k;
  for (let ch = 0; ch < k; ch++) {
    let o = base + ch;
    const d00 = g[o], d01 = g[o + k], d02 = g[o + k2], d03 = g[o + k3];
    o += rp;
    const d10 = g[o], d11 = g[o + k], d12 = g[o + k2], d13 = g[o + k3];
    o += rp;
    const d20 = g[o], d21 = g[o + k], d22 = g[o + k2], d23 = g[o + k3];
    o += rp;
    const d30 = g[o], d31 = g[o + k], d32 = g[o + k2], d33 = g[o + k3];
    // Down the columns.
    const a0 = d00 - d20, a1 = d01 - d21, a2 = d02 - d22, a3 = d03 - d23;
    const b0 = d10 + d20, b1 = d11 + d21, b2 = d12 + d22, b3 = d13 + d23;
    const c0 = d20 - d10, c1 = d21 - d11, c2 = d22 - d12, c3 = d23 - d13;
    const e0 = d30 - d10, e1 = d31 - d11, e2 = d32 - d12, e3 = d33 - d13;
    // Along the rows.
    const x = uo + ch;
    u[x] = a0 - a2;
    u[x + tk] = a1 + a2;
    u[x + 2 * tk] = a2 - a1;
    u[x + 3 * tk] = a3 - a1;
    u[x + 4 * tk] = b0 - b2;
    u[x + 5 * tk] = b1 + b2;
    u[x + 6 * tk] = b2 - b1;
    u[x + 7 * tk] = b3 - b1;
    u[x + 8 * tk] = c0 - c2;
    u[x + 9 * tk] = c1 + c2;
    u[x + 10 * tk] = c2 - c1;
    u[x + 11 * tk] = c3 - c1;
    u[x + 12 * tk] = e0 - e2;
    u[x + 13 * tk] = e1 + e2;
    u[x + 14 * tk] = e2 - e1;
    u[x + 15 * tk] = e3 - e1;
  }
}

/**
 * `Y = Aᵀ·M·A` for every tile into `out` (+ the bias row): tiles that reach
 * past `oh × ow` go through `scratch.tileOut` and only their inside is
 * copied.
 */
function outputTransform(
  c: GridCorrelation,
  m: 2 | 3,
  scratch: WinogradScratch,
  out: Float32Array,
  simd: WinogradSimd | null,
): void {
  const th = Math.ceil(c.oh / m);
  const tw = Math.ceil(c.ow / m);
  const co = c.co;
  const tn = padded(c.n * th * tw * co);
  const rowPitch = c.outCols * co;
  const { mm, tileOut, bias } = scratch;
  const js = m === 2 ? outputTile2 : outputTile3;
  const vec = simd === null ? null : m === 2 ? simd.out2 : simd.out3;
  const inside = Math.floor(c.ow / m);
  let t = 0;
  for (let b = 0; b < c.n; b++) {
    for (let i = 0; i < th; i++) {
      const r0 = i * m;
      const rowBase = (b * c.outRows + r0) * rowPitch;
      let j = 0;
      if (r0 + m <= c.oh) {
        if (vec !== null && inside > 0) {
          vec(
            mm.byteOffset + 4 * t * co,
            4 * tn,
            4 * co,
            inside,
            out.byteOffset + 4 * rowBase,
            4 * rowPitch,
            4 * m * co,
            bias.byteOffset,
          );
          t += inside;
          j = inside;
        } else {
          for (; j < inside; j++, t++) {
            js(mm, t * co, tn, co, bias, out, rowBase + j * m * co, rowPitch);
          }
        }
      }
      for (; j < tw; j++, t++) {
        const c0 = j * m;
        if (vec !== null) {
          vec(
            mm.byteOffset + 4 * t * co,
            4 * tn,
            4 * co,
            1,
            tileOut.byteOffset,
            4 * m * co,
            0,
            bias.byteOffset,
          );
        } else js(mm, t * co, tn, co, bias, tileOut, 0, m * co);
        const rows = Math.min(m, c.oh - r0);
        const len = Math.min(m, c.ow - c0) * co;
        for (let p = 0; p < rows; p++) {
          out.set(
            tileOut.subarray(p * m * co, p * m * co + len),
            rowBase + p * rowPitch + c0 * co,
          );
        }
      }
    }
  }
}

/** Fills `row` with the bias, one value a channel (zeros without one). */
function biasRow(
  bias: Float32Array | null,
  co: number,
  row: Float32Array,
): void {
  if (bias === null) row.fill(0);
  else if (bias.length === 1) row.fill(bias[0]);
  else row.set(bias.subarray(0, co));
}

/** F(2×2, 2×2) output tile: `Aᵀ = [[1, 1, 0], [0, 1, 1]]` on both axes. */
function outputTile2(
  mm: Float32Array,
  mo: number,
  tn: number,
  co: number,
  bias: Float32Array,
  out: Float32Array,
  base: number,
  rp: number,
): void {
  for (let ch = 0; ch < co; ch++) {
    const x = mo + ch;
    const m0 = mm[x], m1 = mm[x + tn], m2 = mm[x + 2 * tn];
    const m3 = mm[x + 3 * tn], m4 = mm[x + 4 * tn], m5 = mm[x + 5 * tn];
    const m6 = mm[x + 6 * tn], m7 = mm[x + 7 * tn], m8 = mm[x + 8 * tn];
    // Down the columns (y0 = M0 + M1, y1 = M1 + M2), then along the rows.
    const top0 = m0 + m3, top1 = m1 + m4, top2 = m2 + m5;
    const bot0 = m3 + m6, bot1 = m4 + m7, bot2 = m5 + m8;
    const bb = bias[ch];
    const o = base + ch;
    out[o] = top0 + top1 + bb;
    out[o + co] = top1 + top2 + bb;
    out[o + rp] = bot0 + bot1 + bb;
    out[o + rp + co] = bot1 + bot2 + bb;
  }
}

/** F(3×3, 2×2) output tile: `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, 0], [0, 1, 1, 1]]`. */
function outputTile3(
  mm: Float32Array,
  mo: number,
  tn: number,
  co: number,
  bias: Float32Array,
  out: Float32Array,
  base: number,
  rp: number,
): void {
  const co2 = 2 * co;
  for (let ch = 0; ch < co; ch++) {
    let x = mo + ch;
    const m00 = mm[x], m01 = mm[x + tn], m02 = mm[x + 2 * tn];
    const m03 = mm[x + 3 * tn];
    x += 4 * tn;
    const m10 = mm[x], m11 = mm[x + tn], m12 = mm[x + 2 * tn];
    const m13 = mm[x + 3 * tn];
    x += 4 * tn;
    const m20 = mm[x], m21 = mm[x + tn], m22 = mm[x + 2 * tn];
    const m23 = mm[x + 3 * tn];
    x += 4 * tn;
    const m30 = mm[x], m31 = mm[x + tn], m32 = mm[x + 2 * tn];
    const m33 = mm[x + 3 * tn];
    // Down the columns: rows y0 = M0+M1+M2, y1 = M1−M2, y2 = M1+M2+M3.
    const p0 = m10 + m20, p1 = m11 + m21, p2 = m12 + m22, p3 = m13 + m23;
    const a0 = m00 + p0, a1 = m01 + p1, a2 = m02 + p2, a3 = m03 + p3;
    const b0 = m10 - m20, b1 = m11 - m21, b2 = m12 - m22, b3 = m13 - m23;
    const c0 = p0 + m30, c1 = p1 + m31, c2 = p2 + m32, c3 = p3 + m33;
    const bb = bias[ch];
    let o = base + ch;
    const qa = a1 + a2, qb = b1 + b2, qc = c1 + c2;
    out[o] = a0 + qa + bb;
    out[o + co] = a1 - a2 + bb;
    out[o + co2] = qa + a3 + bb;
    o += rp;
    out[o] = b0 + qb + bb;
    out[o + co] = b1 - b2 + bb;
    out[o + co2] = qb + b3 + bb;
    o += rp;
    out[o] = c0 + qc + bb;
    out[o + co] = c1 - c2 + bb;
    out[o + co2] = qc + c3 + bb;
  }
}
