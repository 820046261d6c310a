/**
 * The filter gradient of a grid correlation (`winograd.ts`) by Winograd's
 * algorithm: `dW[p, q] = Σ_{b,i,j} grid[b, i + p, j + q, :]ᵀ · dy[b, i, j, :]`
 * for the `r²` taps. Over m×m tiles of dy, each tile's share is a
 * correlation of the `α×α` input tile with the m×m dy tile, whose r×r
 * outputs are the taps: F(r×r, m×m) (`wasm/winograd_wat.ts`'s
 * `FILTER_GRAD_VARIANTS`). So `U = Bᵀ·d·B` (the forward input transform),
 * `Y = G·dy·Gᵀ`, one product a transformed position summing over the tiles,
 * `dV_ξ[k × co] = U_ξᵀ · Y_ξ`, and `dW = Aᵀ·dV·A`: `α²` multiplications a
 * tile for `m²r²`, as in the forward pass.
 *
 * @module
 */
import type { Blas } from "./blas.ts";
import { arenaSimd, inArena } from "./scratch_arena.ts";
import {
  FILTER_GRAD_VARIANTS,
  type FilterGradVariant,
  WINOGRAD_VARIANTS,
} from "./wasm/winograd_wat.ts";
import {
  type GridCorrelation,
  padded,
  simdLoop,
  type TileSource,
  transformTiles,
  winogradInput,
  winogradScratchSizes,
  winogradTile,
  type WinogradTileOptions,
  type WinogradVariant,
} from "./winograd.ts";
import { dyTile, filterOutput } from "./winograd_js.ts";

export type { FilterGradVariant };

/**
 * The algorithm for the filter gradient of `c` (tiles over its `oh × ow`
 * outputs, dy), or `undefined`: the forward pass's choice
 * ({@linkcode winogradTile}, whose cost model counts the same products and
 * transformed values) mapped to the variant with the same input transform.
 */
export function winogradFilterTile(
  c: GridCorrelation,
  options: WinogradTileOptions = {},
): FilterGradVariant | undefined {
  const forward = winogradTile(c, options);
  return forward && FILTER_GRAD_VARIANTS.find((v) => v.input === forward.name);
}

/** The scratch buffers of one {@linkcode winogradFilterGrad} call. */
export interface FilterGradScratch {
  /** The summed products: `α²` blocks of `k·co`. */
  dv: Float32Array;
  /** The transformed input: `α²` blocks of `tiles·k`. */
  u: Float32Array;
  /** The transformed dy: `α²` blocks of `tiles·co`. */
  y: Float32Array;
  /** One zero-padded input tile (`α²·k`). */
  tileIn: Float32Array;
  /** One zero-padded dy tile (`m²·co`). */
  tileDy: Float32Array;
}

/**
 * The sizes (floats) of the {@linkcode FilterGradScratch} buffers, in its
 * order: those of the forward pass's scratch with the same tiles
 * (`winogradScratchSizes`), less its bias row.
 */
export function winogradFilterScratchSizes(
  c: GridCorrelation,
  v: FilterGradVariant,
): number[] {
  return winogradScratchSizes(c, forwardOf(v)).slice(0, 5);
}

/** The forward variant whose input transform and tiles `v` shares. */
function forwardOf(v: FilterGradVariant): WinogradVariant {
  const forward = WINOGRAD_VARIANTS.find((f) => f.name === v.input);
  if (forward === undefined || forward.m !== v.m || forward.r !== v.r) {
    throw new RangeError(
      `winograd: no forward variant "${v.input}" with ${v.m}×${v.m} tiles and ${v.r}×${v.r} taps for F(${v.r}×${v.r}, ${v.m}×${v.m})`,
    );
  }
  return forward;
}

/** The {@linkcode FilterGradScratch} of views in the order of {@linkcode winogradFilterScratchSizes}. */
export function filterGradScratch(views: Float32Array[]): FilterGradScratch {
  const [dv, u, y, tileIn, tileDy] = views;
  return { dv, u, y, tileIn, tileDy };
}

/**
 * The `r²` taps' gradients (`k × co` each, into `taps`) of the correlation
 * `c` from its input `grid` and its output's gradient `dy` (laid out as its
 * output: `outRows × outCols` pixels a batch entry, the `oh × ow` corner
 * used). SIMD loops where the buffers lie in the scratch arena (the taps
 * evenly spaced) and `k`, `co` are multiples of 4; else JavaScript loops.
 */
export function winogradFilterGrad(
  blas: Blas,
  c: GridCorrelation,
  v: FilterGradVariant,
  grid: Float32Array,
  dy: Float32Array,
  taps: Float32Array[],
  scratch: FilterGradScratch,
): void {
  const forward = forwardOf(v);
  if (v.r !== c.r || taps.length !== c.r * c.r) {
    throw new RangeError(
      `winogradFilterGrad: a ${c.r}×${c.r} correlation with ${taps.length} taps cannot run F(${v.r}×${v.r}, ${v.m}×${v.m})`,
    );
  }
  const a2 = (v.m + v.r - 1) ** 2;
  const tiles = c.n * Math.ceil(c.oh / v.m) * Math.ceil(c.ow / v.m);
  const kn = c.k * c.co;
  const { dv, u, y } = scratch;
  winogradInput(c, forward, grid, u, scratch.tileIn);
  dyTransform(c, v, dy, scratch);
  for (let xi = 0; xi < a2; xi++) {
    blas.sgemm(
      true,
      false,
      c.k,
      c.co,
      tiles,
      1,
      u.subarray(xi * padded(tiles * c.k)),
      c.k,
      y.subarray(xi * padded(tiles * c.co)),
      c.co,
      0,
      dv.subarray(xi * padded(kn)),
      c.co,
    );
  }
  const t0 = taps[0].byteOffset;
  const ts = taps.length > 1 ? taps[1].byteOffset - t0 : 0;
  const simd = c.k % 4 === 0 && c.co % 4 === 0 &&
      [dv, ...taps].every(inArena) &&
      taps.every((t, i) => t.byteOffset === t0 + i * ts)
    ? arenaSimd()
    : null;
  if (simd !== null) {
    simd[`dw${v.name}`](dv.byteOffset, 4 * padded(kn), t0, ts, 4 * kn);
  } else filterOutput(v, dv, padded(kn), taps, kn);
}

/** `Y_ξ[tile, :]` for every m×m tile of dy; tiles past `oh × ow` are zero-padded through `scratch.tileDy`. */
function dyTransform(
  c: GridCorrelation,
  v: FilterGradVariant,
  dy: Float32Array,
  scratch: FilterGradScratch,
): void {
  const tiles = c.n * Math.ceil(c.oh / v.m) * Math.ceil(c.ow / v.m);
  const src: TileSource = {
    data: dy,
    rows: c.outRows,
    cols: c.outCols,
    validRows: c.oh,
    validCols: c.ow,
    channels: c.co,
  };
  const dst = { data: scratch.y, stride: padded(tiles * c.co) };
  const vec = simdLoop(`dy${v.name}`);
  transformTiles(c, v.m, v.m, src, dst, scratch.tileDy, vec, dyTile(v));
}
