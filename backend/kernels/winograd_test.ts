import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { loadBlas } from "./blas.ts";
import { type ConvCase, S2D_CASES } from "./conv_cases.ts";
import { setS2dMode } from "./s2d_conv.ts";
import { assertWasmMatchesCpu, BLAS_AVAILABLE, randn } from "./test_util.ts";
import { scratchViews } from "./scratch_arena.ts";
import {
  type GridCorrelation,
  setWinogradMode,
  winogradCorrelate,
  type WinogradMode,
  winogradScratchSizes,
  winogradTile,
} from "./winograd.ts";

tf.enableProdMode();

/** Deterministic values in [−1, 1). */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

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
          for (let t = 0; t < 4; t++) {
            const p = t >> 1, q = t & 1;
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
  m: 2 | 3,
  layout: "kn" | "nk",
  arena: boolean,
): void {
  const blas = loadBlas({ threads: 1 })!;
  try {
    const gridSize = c.n * c.rows * c.cols * c.k;
    const size = c.n * c.outRows * c.outCols * c.co;
    const kn = c.k * c.co;
    const bias = layout === "kn" ? values(c.co, 7) : null;
    const plain = [gridSize, kn, kn, kn, kn, size].map((n) =>
      new Float32Array(n)
    );
    const views = arena
      ? scratchViews([
        gridSize,
        kn,
        kn,
        kn,
        kn,
        size,
        ...winogradScratchSizes(c, m),
      ])
      : plain;
    const [grid, t0, t1, t2, t3, out, v, u, mm, tileIn, tileOut, row] = views;
    grid.set(values(gridSize, 1));
    const taps = [t0, t1, t2, t3];
    taps.forEach((t, i) => t.set(values(kn, 10 + i)));
    out.fill(NaN);
    const scratch = arena
      ? { v, u, mm, tileIn, tileOut, bias: row }
      : undefined;
    winogradCorrelate(blas, c, m, grid, { taps, layout }, bias, out, scratch);
    const want = naive(c, grid, taps, layout, bias);
    for (let i = 0; i < size; i++) {
      if (Number.isNaN(want[i])) {
        assert.ok(
          Number.isNaN(out[i]),
          `output ${i} outside oh × ow was written`,
        );
      } else {
        assert.ok(
          Math.abs(out[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])),
          `output ${i}: ${out[i]}, expected ${want[i]}`,
        );
      }
    }
  } finally {
    blas.close();
  }
}

for (const [name, c] of [...GRIDS, ...SIMD_GRIDS]) {
  for (const m of [2, 3] as const) {
    for (const layout of ["kn", "nk"] as const) {
      for (const arena of [false, true]) {
        Deno.test({
          name: `winogradCorrelate F(${m}×${m}, 2×2), ${layout}, ${
            arena ? "in the arena" : "plain arrays"
          }: ${name}`,
          ignore: !BLAS_AVAILABLE,
          fn: () => checkCorrelation(c, m, layout, arena),
        });
      }
    }
  }
}

Deno.test("winogradTile: none on few tiles, m = 3 on pix2pix's large layers, forced modes", () => {
  const c = (oh: number, k: number, co: number): GridCorrelation => ({
    n: 1,
    rows: oh + 1,
    cols: oh + 1,
    k,
    oh,
    ow: oh,
    co,
    outRows: oh,
    outCols: oh,
  });
  assert.equal(winogradTile(c(4, 2048, 512)), 0);
  assert.equal(winogradTile(c(64, 256, 128)), 3);
  assert.notEqual(
    winogradTile(c(17, 512, 1024)),
    0,
    "one thread: few tiles pay",
  );
  assert.equal(
    winogradTile(c(17, 512, 1024), { threads: 2 }),
    0,
    "two threads: the one-thread transforms weigh twice, 81 tiles are too few",
  );
  assert.equal(
    winogradTile(c(16, 1024, 512), { direct: 4 * 16 * 16 * 1024 * 512 }),
    2,
    "against im2col's products (no padded grid)",
  );
  assert.equal(
    winogradTile(c(64, 12, 4)),
    0,
    "thin products: the transforms cost more",
  );
  const was = setWinogradMode("f2");
  try {
    assert.equal(winogradTile(c(4, 2048, 512)), 2);
  } finally {
    setWinogradMode(was);
  }
  assert.throws(
    () => setWinogradMode("f4" as WinogradMode),
    /expected "auto", "f2", "f3" or "off", received "f4"/,
  );
});

/** Conv2D, FusedConv2D (bias) and Conv2DBackpropInput of a case. */
function winogradKernels(c: ConvCase): tf.Tensor[] {
  const x = randn(c.x, 1) as tf.Tensor4D;
  const filter = randn(c.filter, 2) as tf.Tensor4D;
  const bias = randn([c.filter[3]], 3) as tf.Tensor1D;
  const y = tf.conv2d(x, filter, c.strides, c.pad);
  const dy = randn(y.shape, 4) as tf.Tensor4D;
  return [
    y,
    tf.fused.conv2d({ x, filter, strides: c.strides, pad: c.pad, bias }),
    tf.conv2dTranspose(dy, filter, c.x, c.strides, c.pad),
  ];
}

/** A case whose products have channels in fours (the SIMD transforms). */
const FOURS: ConvCase = {
  name: "4x4 s2 same, batch 2, 14x18, 4 channels in, 8 out (SIMD transforms)",
  x: [2, 14, 18, 4],
  filter: [4, 4, 4, 8],
  strides: 2,
  pad: "same",
};

for (const mode of ["f2", "f3"] as const) {
  for (const c of [...S2D_CASES, FOURS]) {
    Deno.test({
      name:
        `space-to-depth convolutions by Winograd ${mode} wasm = cpu: ${c.name}`,
      ignore: !BLAS_AVAILABLE,
      fn: async () => {
        const was = setWinogradMode(mode);
        const s2d = setS2dMode("always");
        try {
          await assertWasmMatchesCpu(() => winogradKernels(c), c.name);
        } finally {
          setWinogradMode(was);
          setS2dMode(s2d);
        }
      },
    });
  }
}
