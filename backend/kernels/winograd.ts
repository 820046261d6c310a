/**
 * A stride-1 correlation of an r×r filter (r = 2 or 4) over a grid of pixels
 * by Winograd's minimal filtering algorithm F(m×m, r×r) (Lavin & Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016): the core of the
 * space-to-depth convolutions (`s2d_conv.ts`), where every 4×4 stride-2
 * layer of pix2pix, and its transposed twin, becomes a 2×2 correlation over
 * 4× the channels, and the PatchGAN's 4×4 stride-1 layer is a 4×4 one.
 *
 * For output tiles of m×m pixels, each `α×α` input tile `d` (α = m + r − 1)
 * and each filter `g` are transformed (`U = Bᵀ·d·B`, `V = G·g·Gᵀ`), the `α²`
 * transformed positions are `α²` independent products
 * `M_ξ[tiles × N] = U_ξ[tiles × K] · V_ξ[K × N]` on the BLAS, and
 * `Y = Aᵀ·M·A` gives the tile: `α²` multiplications for `m²r²`, 1.78× fewer
 * for F(2×2, 2×2), 2.25× for F(3×3, 2×2), 2.56× for F(4×4, 2×2) and
 * F(2×2, 4×4). The coefficients of the first two are 0, ±1 and ±½ (exact in
 * floating point); the others' include ⅙, 2 and 8, so their results differ
 * from a direct correlation by a few more roundings (~1e-6 relative).
 *
 * The transforms run as WebAssembly SIMD loops (`wasm/winograd_wat.ts`)
 * where the buffers lie in the scratch arena (`scratch_arena.ts`), else as
 * JavaScript loops (`winograd_js.ts`); {@linkcode winogradTile} picks the
 * algorithm, or none, from the products' sizes.
 *
 * @module
 */
import { type Blas, parallelPays } from "./blas.ts";
import { arenaSimd, inArena, type WinogradSimd } from "./scratch_arena.ts";
import {
  cornerTap,
  WINOGRAD_VARIANTS,
  type WinogradVariant,
} from "./wasm/winograd_wat.ts";
import {
  type InputTile,
  inputTile,
  outputTile,
  weightTransform,
} from "./winograd_js.ts";

export type { WinogradVariant };

/** A stride-1 "valid" correlation of a grid with an r×r filter (see the module doc). */
export interface GridCorrelation {
  /** Batch entries. */
  n: number;
  /** Grid rows per batch entry. */
  rows: number;
  /** Grid columns (the row pitch, in pixels). */
  cols: number;
  /** Channels of a grid pixel (the products' inner dimension). */
  k: number;
  /** Filter side: 2 or 4. */
  r: number;
  /** Output rows per batch entry computed (at most `rows − r + 1`). */
  oh: number;
  /** Output columns computed (at most `cols − r + 1`). */
  ow: number;
  /** Output channels. */
  co: number;
  /** Rows per batch entry of the output array (at least `oh`). */
  outRows: number;
  /** Columns of the output array (its row pitch, at least `ow`). */
  outCols: number;
}

/**
 * The `r²` taps (tap `(p, q)`, at index `p·r + q`, reads grid pixel
 * `(i + p, j + q)` for output `(i, j)`), each a `k × co` matrix (`"kn"`,
 * row-major) or a `co × k` one (`"nk"`).
 */
export interface GridTaps {
  /** The tap matrices, row by row. */
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
  /** The BLAS's multiply-adds a nanosecond on one thread (`Blas.macsPerNs`). @default 50 */
  macsPerNs?: number;
}

/**
 * When Winograd runs: where it is cheaper (`"auto"`), always (`"f2"`:
 * 2×2 output tiles, `"f3"` / `"f4"`: 3×3 / 4×4 ones where the filter is
 * 2×2), or never.
 */
export type WinogradMode = "auto" | "f2" | "f3" | "f4" | "off";

let mode: WinogradMode = "auto";

/** Sets when Winograd runs (for tests and benchmarks); returns the previous mode. */
export function setWinogradMode(next: WinogradMode): WinogradMode {
  if (!["auto", "f2", "f3", "f4", "off"].includes(next)) {
    throw new RangeError(
      `setWinogradMode: expected "auto", "f2", "f3", "f4" or "off", received ${
        JSON.stringify(next)
      }`,
    );
  }
  const was = mode;
  mode = next;
  return was;
}

/** The algorithms for an r×r filter. */
function variantsFor(r: number): WinogradVariant[] {
  return WINOGRAD_VARIANTS.filter((v) => v.r === r);
}

/** A transformed tile value's cost (U, M) in ns, SIMD loops (see {@linkcode winogradTile}). */
const SIMD_TRANSFORM_NS = 0.4;
/** A transformed filter value's (V: one streaming pass over the taps). */
const SIMD_FILTER_NS = 0.16;
/** The same for the JavaScript loops. */
const JS_TRANSFORM_NS = 1.2;

/**
 * The algorithm for `c`, or `undefined` where the direct products are
 * cheaper (`options.direct` multiply-adds, by default the shifted-view
 * products on the whole grid, `r²·n·rows·cols·k·co`). The model, in time:
 * the products' `α²·tiles·k·co` multiply-adds at `options.macsPerNs` a
 * thread on `options.threads` threads (one where `parallelPays` says the
 * product is too small for more), plus the
 * transforms' values written and read (U and M: `α²·tiles·(k + co)` at
 * about {@linkcode SIMD_TRANSFORM_NS} each; V: `α²·k·co` at
 * {@linkcode SIMD_FILTER_NS}) where the SIMD loops run (channels in fours),
 * else all at {@linkcode JS_TRANSFORM_NS} (measured
 * on pix2pix's layers) on one thread; no Winograd on under 32 tiles (100
 * where the products get more than one thread), where the products are too
 * short to run at full speed, and none for the 4×4 filter without the SIMD
 * loops.
 */
export function winogradTile(
  c: GridCorrelation,
  options: WinogradTileOptions = {},
): WinogradVariant | undefined {
  const variants = variantsFor(c.r);
  if (mode === "off" || variants.length === 0) return undefined;
  if (mode !== "auto") {
    const m = Number(mode.slice(1));
    return variants.find((v) => v.m === m) ?? variants[0];
  }
  const threads = Math.max(1, options.threads ?? 1);
  const rate = options.macsPerNs ?? 50;
  const kn = c.k * c.co;
  const simd = c.k % 4 === 0 && c.co % 4 === 0 && arenaSimd() !== null;
  if (!simd && c.r !== 2) return undefined;
  // Time in ns: products on the threads they get (one where parallelPays
  // says no), the transforms on one.
  const on = (m: number) => (parallelPays(m, c.co, c.k) ? threads : 1);
  const directRows = c.n * c.rows * c.cols;
  const direct = options.direct ?? c.r * c.r * directRows * kn;
  const perValue = simd ? SIMD_TRANSFORM_NS : JS_TRANSFORM_NS;
  const perFilterValue = simd ? SIMD_FILTER_NS : JS_TRANSFORM_NS;
  let best: WinogradVariant | undefined;
  let bestCost = direct / (rate * on(directRows));
  for (const v of variants) {
    const tiles = c.n * Math.ceil(c.oh / v.m) * Math.ceil(c.ow / v.m);
    const t = on(tiles);
    if (tiles < (t > 1 ? 100 : 32)) continue;
    const a2 = (v.m + v.r - 1) ** 2;
    const cost = (a2 * tiles * kn) / (rate * t) +
      perValue * a2 * tiles * (c.k + c.co) + perFilterValue * a2 * kn;
    if (cost < bestCost) {
      best = v;
      bestCost = cost;
    }
  }
  return best;
}

/** The scratch buffers of one {@linkcode winogradCorrelate} call. */
export interface WinogradScratch {
  /** The transformed filter: `α²` blocks of `k·co`, {@linkcode padded} apart. */
  v: Float32Array;
  /** The transformed input: `α²` blocks of `tiles·k`. */
  u: Float32Array;
  /** The products: `α²` blocks of `tiles·co`. */
  mm: Float32Array;
  /** One zero-padded input tile (`α²·k`). */
  tileIn: Float32Array;
  /** One output tile (`m²·co`). */
  tileOut: Float32Array;
  /** The bias row (`co`). */
  bias: Float32Array;
}

/** The sizes (floats) of the {@linkcode WinogradScratch} buffers, in its order. */
export function winogradScratchSizes(
  c: GridCorrelation,
  v: WinogradVariant,
): number[] {
  const a2 = (v.m + v.r - 1) ** 2;
  const tiles = c.n * Math.ceil(c.oh / v.m) * Math.ceil(c.ow / v.m);
  return [
    a2 * padded(c.k * c.co),
    a2 * padded(tiles * c.k),
    a2 * padded(tiles * c.co),
    a2 * c.k,
    v.m * v.m * c.co,
    c.co,
  ];
}

/** The {@linkcode WinogradScratch} of views in the order of {@linkcode winogradScratchSizes}. */
export function winogradScratch(views: Float32Array[]): WinogradScratch {
  const [v, u, mm, tileIn, tileOut, bias] = views;
  return { v, u, mm, tileIn, tileOut, bias };
}

function jsScratch(c: GridCorrelation, v: WinogradVariant): WinogradScratch {
  return winogradScratch(
    winogradScratchSizes(c, v).map((size, slot) => buffer(slot, size)),
  );
}

/** The SIMD loops, where the channels come in fours and `views` all lie in the arena; else `null`. */
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
 * for `i < oh`, `j < ow`, by the algorithm `v` (from
 * {@linkcode winogradTile}; `v.r` must be `c.r`). Grid pixels beyond `rows`
 * or `cols` read as zero; output pixels outside `oh × ow` are left as they
 * are. Each transform runs as SIMD loops where its buffers lie in the
 * scratch arena (`scratch_arena.ts`, the filter's taps evenly spaced there)
 * and `k` and `co` are multiples of 4, else as JavaScript loops (with
 * `scratch`, by default, off the wasm heap).
 */
export function winogradCorrelate(
  blas: Blas,
  c: GridCorrelation,
  v: WinogradVariant,
  grid: Float32Array,
  w: GridTaps,
  bias: Float32Array | null,
  out: Float32Array,
  scratch: WinogradScratch = jsScratch(c, v),
): void {
  if (v.r !== c.r || w.taps.length !== c.r * c.r) {
    throw new RangeError(
      `winogradCorrelate: a ${c.r}×${c.r} correlation with ${w.taps.length} taps cannot run F(${v.m}×${v.m}, ${v.r}×${v.r})`,
    );
  }
  const a = v.m + v.r - 1;
  const tiles = c.n * Math.ceil(c.oh / v.m) * Math.ceil(c.ow / v.m);
  const kn = c.k * c.co;
  const { u, mm } = scratch;
  biasRow(bias, c.co, scratch.bias);
  filterTransform(c, v, w.taps, scratch.v);
  winogradInput(c, v, grid, u, scratch.tileIn);
  const nk = w.layout === "nk";
  for (let xi = 0; xi < a * a; xi++) {
    const tap = cornerTap(v, Math.floor(xi / a), xi % a);
    blas.sgemm(
      false,
      nk,
      tiles,
      c.co,
      c.k,
      1,
      u.subarray(xi * padded(tiles * c.k)),
      c.k,
      tap === undefined ? scratch.v.subarray(xi * padded(kn)) : w.taps[tap],
      nk ? c.k : c.co,
      0,
      mm.subarray(xi * padded(tiles * c.co)),
      c.co,
    );
  }
  outputTransform(c, v, scratch, out);
}

/**
 * The distance between the `α²` blocks of U, V and M: their size plus a
 * cache line, so that the transforms' streams (one a block) do not all map to
 * the same cache sets, as they do when the blocks are a multiple of 4 KiB
 * apart (which costs the F(3×3) transforms several times their time).
 */
export function padded(size: number): number {
  return size + 16;
}

/** `V` from the taps: the SIMD loop where they are evenly spaced in the arena. */
function filterTransform(
  c: GridCorrelation,
  v: WinogradVariant,
  taps: Float32Array[],
  out: Float32Array,
): void {
  const kn = c.k * c.co;
  for (const t of taps) {
    if (t.length < kn) {
      throw new RangeError(
        `winogradCorrelate: a tap has ${t.length} values, expected ${kn}`,
      );
    }
  }
  const ks = padded(kn);
  const t0 = taps[0].byteOffset;
  const ts = taps.length > 1 ? taps[1].byteOffset - t0 : 0;
  const even = taps.every((t, i) => t.byteOffset === t0 + i * ts);
  const simd = even ? simdFor(c, [out, ...taps]) : null;
  if (simd !== null) {
    simd[`w${v.name}`](t0, ts, out.byteOffset, 4 * ks, 4 * kn);
  } else weightTransform(v, taps, kn, out, ks);
}

/**
 * The input transform: `U_ξ[tile, :]` for every tile of m×m outputs
 * (row-major over batch, tile row, tile column) into `u` (`α²` blocks of
 * `tiles·k`, {@linkcode padded} apart); tiles that reach past the grid are
 * first copied, zero-padded, into `tileIn` (`α²·k`). SIMD loops where the
 * three lie in the scratch arena and `k` is a multiple of 4.
 */
export function winogradInput(
  c: GridCorrelation,
  v: WinogradVariant,
  grid: Float32Array,
  u: Float32Array,
  tileIn: Float32Array,
): void {
  const tiles = c.n * Math.ceil(c.oh / v.m) * Math.ceil(c.ow / v.m);
  const src: TileSource = {
    data: grid,
    rows: c.rows,
    cols: c.cols,
    validRows: c.rows,
    validCols: c.cols,
    channels: c.k,
  };
  const dst = { data: u, stride: padded(tiles * c.k) };
  const vec = simdLoop(`in${v.name}`);
  transformTiles(c, v.m, v.m + v.r - 1, src, dst, tileIn, vec, inputTile(v));
}

/** The SIMD loop exported as `name`, or `null` without the SIMD module. */
export function simdLoop(name: string): ((...args: number[]) => void) | null {
  return arenaSimd()?.[name] ?? null;
}

/** Where {@linkcode transformTiles} reads its tiles. */
export interface TileSource {
  /** The pixels: `rows × cols` a batch entry, `channels` each. */
  data: Float32Array;
  /** Rows a batch entry. */
  rows: number;
  /** Columns (the row pitch in pixels). */
  cols: number;
  /** Rows that hold data (beyond: zeros). */
  validRows: number;
  /** Columns that hold data (beyond: zeros). */
  validCols: number;
  /** Channels a pixel. */
  channels: number;
}

/**
 * Transforms the `size × size` tiles at every m×m output tile of `c` from
 * `src` into `dst` (result ξ of tile t at `ξ·stride + t·channels`) with the
 * SIMD tile loop `vec` where every buffer lies in the scratch arena and the
 * channels come in fours, else with `js`; tiles reaching past the valid
 * data are first copied, zero-padded, into `tile` (`size²·channels`).
 */
export function transformTiles(
  c: GridCorrelation,
  m: number,
  size: number,
  src: TileSource,
  dst: { data: Float32Array; stride: number },
  tile: Float32Array,
  vec: ((...args: number[]) => void) | null,
  js: InputTile,
): void {
  const k = src.channels;
  const rowPitch = src.cols * k;
  const { data: out, stride } = dst;
  const useSimd = vec !== null && k % 4 === 0 &&
    [src.data, out, tile].every(inArena);
  const base = (b: number, r0: number) => (b * src.rows + r0) * rowPitch;
  walkTiles(c, m, {
    inside: src.validCols >= size
      ? Math.floor((src.validCols - size) / m) + 1
      : 0,
    rowFits: (r0) => r0 + size <= src.validRows,
    interior(b, r0, t, count) {
      if (useSimd) {
        const from = src.data.byteOffset + 4 * base(b, r0);
        const to = out.byteOffset + 4 * t * k;
        vec!(from, 4 * rowPitch, 4 * k, count, 4 * m * k, to, 4 * stride);
      } else {
        for (let j = 0; j < count; j++) {
          const from = base(b, r0) + j * m * k;
          js(src.data, from, rowPitch, k, out, (t + j) * k, stride);
        }
      }
    },
    edge(b, r0, c0, t) {
      tile.fill(0);
      const rows = Math.min(size, src.validRows - r0);
      const len = Math.max(0, Math.min(size, src.validCols - c0)) * k;
      for (let p = 0; p < rows; p++) {
        const from = base(b, r0) + p * rowPitch + c0 * k;
        tile.set(src.data.subarray(from, from + len), p * size * k);
      }
      if (useSimd) {
        const to = out.byteOffset + 4 * t * k;
        vec!(tile.byteOffset, 4 * size * k, 4 * k, 1, 0, to, 4 * stride);
      } else js(tile, 0, size * k, k, out, t * k, stride);
    },
  });
}

/** How {@linkcode walkTiles} visits the tiles of one row. */
export interface TileRowVisitor {
  /** Leading tiles of a row that lie inside the data (the rest are edge tiles). */
  inside: number;
  /** Whether a tile row starting at `r0` lies inside the data (else all its tiles are edge tiles). */
  rowFits(r0: number): boolean;
  /** `count` inside tiles from tile index `t`, row `r0` of batch entry `b`. */
  interior(b: number, r0: number, t: number, count: number): void;
  /** One edge tile: tile index `t`, at row `r0`, column `c0`. */
  edge(b: number, r0: number, c0: number, t: number): void;
}

/**
 * Visits the m×m tiles of `c`'s outputs (row-major over batch, tile row,
 * tile column; `t` counts them): a row's leading inside tiles at once, then
 * its edge tiles one by one.
 */
export function walkTiles(
  c: GridCorrelation,
  m: number,
  visit: TileRowVisitor,
): void {
  const th = Math.ceil(c.oh / m);
  const tw = Math.ceil(c.ow / m);
  const inside = Math.min(tw, visit.inside);
  let t = 0;
  for (let b = 0; b < c.n; b++) {
    for (let i = 0; i < th; i++) {
      const r0 = i * m;
      let j = 0;
      if (inside > 0 && visit.rowFits(r0)) {
        visit.interior(b, r0, t, inside);
        t += inside;
        j = inside;
      }
      for (; j < tw; j++, t++) visit.edge(b, r0, j * m, t);
    }
  }
}

/**
 * `Y = Aᵀ·M·A` for every tile into `out` (+ the bias row): tiles that reach
 * past `oh × ow` go through `scratch.tileOut` and only their inside is
 * copied.
 */
function outputTransform(
  c: GridCorrelation,
  v: WinogradVariant,
  scratch: WinogradScratch,
  out: Float32Array,
): void {
  const { m } = v;
  const co = c.co;
  const tn = padded(c.n * Math.ceil(c.oh / m) * Math.ceil(c.ow / m) * co);
  const rowPitch = c.outCols * co;
  const { mm, tileOut, bias } = scratch;
  const js = outputTile(v);
  const simd = simdFor(c, [mm, tileOut, bias, out]);
  const vec = simd === null ? null : simd[`out${v.name}`];
  const base = (b: number, r0: number) => (b * c.outRows + r0) * rowPitch;
  walkTiles(c, m, {
    inside: Math.floor(c.ow / m),
    rowFits: (r0) => r0 + m <= c.oh,
    interior(b, r0, t, count) {
      if (vec !== null) {
        const src = mm.byteOffset + 4 * t * co;
        const dst = out.byteOffset + 4 * base(b, r0);
        const pitch = 4 * rowPitch;
        vec(
          src,
          4 * tn,
          4 * co,
          count,
          dst,
          pitch,
          4 * m * co,
          bias.byteOffset,
        );
      } else {
        for (let j = 0; j < count; j++) {
          const dst = base(b, r0) + j * m * co;
          js(mm, (t + j) * co, tn, co, bias, out, dst, rowPitch);
        }
      }
    },
    edge(b, r0, c0, t) {
      if (vec !== null) {
        const mo = mm.byteOffset + 4 * t * co;
        const to = tileOut.byteOffset;
        vec(mo, 4 * tn, 4 * co, 1, to, 4 * m * co, 0, bias.byteOffset);
      } else js(mm, t * co, tn, co, bias, tileOut, 0, m * co);
      const rows = Math.min(m, c.oh - r0);
      const len = Math.min(m, c.ow - c0) * co;
      for (let p = 0; p < rows; p++) {
        out.set(
          tileOut.subarray(p * m * co, p * m * co + len),
          base(b, r0) + p * rowPitch + c0 * co,
        );
      }
    },
  });
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
