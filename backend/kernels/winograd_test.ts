import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { loadBlas } from "./blas.ts";
import { type ConvCase, S2D_CASES } from "./conv_cases.ts";
import { setS2dMode } from "./s2d_conv.ts";
import {
  allConvKernels,
  assertWasmMatchesCpu,
  BLAS_AVAILABLE,
  uniformValues,
} from "./test_util.ts";
import { scratchViews } from "./scratch_arena.ts";
import { WINOGRAD_VARIANTS } from "./wasm/winograd_wat.ts";
import {
  type GridCorrelation,
  setWinogradMode,
  winogradCorrelate,
  type WinogradMode,
  winogradScratch,
  winogradScratchSizes,
  winogradTile,
  type WinogradTileOptions,
  type WinogradVariant,
} from "./winograd.ts";

tf.enableProdMode();

/** The correlation by its definition, in float64. */
function naive(
  c: GridCorrelation,
  grid: Float32Array,
  taps: Float32Array[],
  layout: "kn" | "nk",
  bias: Float32Array | null,
): Float64Array {
  const out = new Float64Array(c.n * c.outRows * c.outCols * c.co).fill(NaN);
  const at = (b: number, r: number, col: number, ch: number) =>
    r < c.rows && col < c.cols
      ? grid[((b * c.rows + r) * c.cols + col) * c.k + ch]
      : 0;
  for (let b = 0; b < c.n; b++) {
    for (let i = 0; i < c.oh; i++) {
      for (let j = 0; j < c.ow; j++) {
        for (let o = 0; o < c.co; o++) {
          let sum = bias ? bias[bias.length === 1 ? 0 : o] : 0;
          for (let t = 0; t < c.r * c.r; t++) {
            const p = Math.floor(t / c.r), q = t % c.r;
            for (let ch = 0; ch < c.k; ch++) {
              const w = layout === "kn"
                ? taps[t][ch * c.co + o]
                : taps[t][o * c.k + ch];
              sum += at(b, i + p, j + q, ch) * w;
            }
          }
          out[((b * c.outRows + i) * c.outCols + j) * c.co + o] = sum;
        }
      }
    }
  }
  return out;
}

const GRIDS: [string, GridCorrelation][] = [
  ["batch 2, odd non-square, grid with spare rows", {
    n: 2,
    rows: 9,
    cols: 12,
    k: 5,
    r: 2,
    oh: 7,
    ow: 10,
    co: 3,
    outRows: 8,
    outCols: 11,
  }],
  ["one channel in and out, outputs reaching the grid's last pixel", {
    n: 1,
    rows: 8,
    cols: 6,
    k: 1,
    r: 2,
    oh: 7,
    ow: 5,
    co: 1,
    outRows: 7,
    outCols: 5,
  }],
  ["tiles past the grid (read as zero), 1 output row", {
    n: 3,
    rows: 2,
    cols: 17,
    k: 4,
    r: 2,
    oh: 1,
    ow: 16,
    co: 6,
    outRows: 1,
    outCols: 16,
  }],
];

/** Channels in fours: the SIMD transforms run where the buffers lie in the arena. */
const SIMD_GRIDS: [string, GridCorrelation][] = [
  ["SIMD: batch 2, odd non-square, tiles past both edges", {
    n: 2,
    rows: 9,
    cols: 12,
    k: 8,
    r: 2,
    oh: 7,
    ow: 10,
    co: 12,
    outRows: 8,
    outCols: 11,
  }],
  ["SIMD: outputs a multiple of both tile sides, 4 channels", {
    n: 1,
    rows: 7,
    cols: 7,
    k: 4,
    r: 2,
    oh: 6,
    ow: 6,
    co: 4,
    outRows: 6,
    outCols: 6,
  }],
];

/** Runs one correlation, in the arena (`arena`) or on plain arrays, and checks it. */
function checkCorrelation(
  c: GridCorrelation,
  variant: WinogradVariant,
  layout: "kn" | "nk",
  arena: boolean,
): void {
  const blas = loadBlas({ threads: 1 })!;
  try {
    const gridSize = c.n * c.rows * c.cols * c.k;
    const size = c.n * c.outRows * c.outCols * c.co;
    const kn = c.k * c.co;
    const r2 = c.r * c.r;
    const bias = layout === "kn" ? uniformValues(c.co, 7) : null;
    // The taps as blocks of one array (evenly spaced: the SIMD filter transform).
    const sizes = [gridSize, r2 * kn, size];
    const views = arena
      ? scratchViews([...sizes, ...winogradScratchSizes(c, variant)])
      : sizes.map((n) => new Float32Array(n));
    const [grid, tapArray, out, ...rest] = views;
    grid.set(uniformValues(gridSize, 1));
    const taps = Array.from(
      { length: r2 },
      (_, t) => tapArray.subarray(t * kn, (t + 1) * kn),
    );
    taps.forEach((t, i) => t.set(uniformValues(kn, 10 + i)));
    out.fill(NaN);
    const scratch = arena ? winogradScratch(rest) : undefined;
    const w = { taps, layout };
    winogradCorrelate(blas, c, variant, grid, w, bias, out, scratch);
    const want = naive(c, grid, taps, layout, bias);
    // F(2×2, 4×4)'s and F(4×4, 2×2)'s transforms round more (⅙, 2, 8).
    const tol = variant.m + variant.r > 5 ? 2e-5 : 1e-5;
    for (let i = 0; i < size; i++) {
      if (Number.isNaN(want[i])) {
        assert.ok(
          Number.isNaN(out[i]),
          `output ${i} outside oh × ow was written`,
        );
      } else {
        assert.ok(
          Math.abs(out[i] - want[i]) <= tol * (1 + Math.abs(want[i])),
          `output ${i}: ${out[i]}, expected ${want[i]}`,
        );
      }
    }
  } finally {
    blas.close();
  }
}

/** 4×4 filters (F(2×2, 4×4)), odd sizes, tiles past both edges. */
const GRIDS_4: [string, GridCorrelation][] = [
  [
    "4×4 filter, batch 2, odd non-square, 8 and 12 channels (SIMD in the arena)",
    {
      n: 2,
      rows: 11,
      cols: 14,
      k: 8,
      r: 4,
      oh: 8,
      ow: 9,
      co: 12,
      outRows: 9,
      outCols: 11,
    },
  ],
  ["4×4 filter, 1 channel in, 3 out (JavaScript loops)", {
    n: 1,
    rows: 9,
    cols: 8,
    k: 1,
    r: 4,
    oh: 6,
    ow: 5,
    co: 3,
    outRows: 6,
    outCols: 5,
  }],
];

for (const [name, c] of [...GRIDS, ...SIMD_GRIDS, ...GRIDS_4]) {
  for (const v of WINOGRAD_VARIANTS.filter((v) => v.r === c.r)) {
    for (const layout of ["kn", "nk"] as const) {
      for (const arena of [false, true]) {
        Deno.test({
          name:
            `winogradCorrelate F(${v.m}×${v.m}, ${v.r}×${v.r}), ${layout}, ${
              arena ? "in the arena" : "plain arrays"
            }: ${name}`,
          ignore: !BLAS_AVAILABLE,
          fn: () => checkCorrelation(c, v, layout, arena),
        });
      }
    }
  }
}

Deno.test("winogradTile: none on few tiles, the tile that fits pix2pix's large layers, F(2×2, 4×4) for 4×4 filters, forced modes", () => {
  const c = (oh: number, k: number, co: number, r = 2): GridCorrelation => ({
    n: 1,
    rows: oh + r - 1,
    cols: oh + r - 1,
    k,
    r,
    oh,
    ow: oh,
    co,
    outRows: oh,
    outCols: oh,
  });
  const m = (g: GridCorrelation, o?: WinogradTileOptions) =>
    winogradTile(g, o)?.name;
  assert.equal(m(c(4, 2048, 512)), undefined);
  assert.equal(m(c(64, 256, 128)), "4", "64 outputs: 4×4 tiles fit exactly");
  assert.equal(m(c(33, 512, 512)), "3", "33 outputs: 3×3 tiles fit exactly");
  assert.notEqual(m(c(17, 512, 1024)), undefined, "one thread: few tiles pay");
  assert.equal(
    m(c(17, 512, 1024), { threads: 2 }),
    undefined,
    "two threads: the one-thread transforms weigh twice, 81 tiles are too few",
  );
  assert.equal(
    m(c(16, 1024, 512), { direct: 4 * 16 * 16 * 1024 * 512 }),
    "2",
    "against im2col's products (no padded grid)",
  );
  assert.equal(
    m(c(64, 12, 4)),
    undefined,
    "thin products: the transforms cost more",
  );
  assert.equal(m(c(31, 256, 512, 4)), "24", "the PatchGAN's stride-1 layer");
  assert.equal(m(c(31, 3, 512, 4)), undefined, "4×4: SIMD loops only");
  const was = setWinogradMode("f2");
  try {
    assert.equal(m(c(4, 2048, 512)), "2");
    assert.equal(m(c(4, 2048, 512, 4)), "24");
  } finally {
    setWinogradMode(was);
  }
  assert.throws(
    () => setWinogradMode("f5" as WinogradMode),
    /expected "auto", "f2", "f3", "f4" or "off", received "f5"/,
  );
});

/** A case whose products have channels in fours (the SIMD transforms). */
const FOURS: ConvCase = {
  name: "4x4 s2 same, batch 2, 14x18, 4 channels in, 8 out (SIMD transforms)",
  x: [2, 14, 18, 4],
  filter: [4, 4, 4, 8],
  strides: 2,
  pad: "same",
};

/** 4×4 stride-1 layers like the PatchGAN's (F(2×2, 4×4)). */
const STRIDE_1: ConvCase[] = [
  {
    name: "4x4 s1 explicit 1, batch 2, 9x11, 8 channels in, 12 out (SIMD)",
    x: [2, 9, 11, 8],
    filter: [4, 4, 8, 12],
    strides: 1,
    pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
  },
  {
    name: "4x4 s1 valid, 10x7, 3 channels in, 5 out (JavaScript loops)",
    x: [1, 10, 7, 3],
    filter: [4, 4, 3, 5],
    strides: 1,
    pad: "valid",
  },
];

for (const mode of ["f2", "f3", "f4"] as const) {
  for (const c of [...S2D_CASES, FOURS, ...STRIDE_1]) {
    Deno.test({
      name:
        `space-to-depth convolutions by Winograd ${mode} wasm = cpu: ${c.name}`,
      ignore: !BLAS_AVAILABLE,
      fn: async () => {
        const was = setWinogradMode(mode);
        const s2d = setS2dMode("always");
        try {
          await assertWasmMatchesCpu(() => allConvKernels(c), c.name);
        } finally {
          setWinogradMode(was);
          setS2dMode(s2d);
        }
      },
    });
  }
}
