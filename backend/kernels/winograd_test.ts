import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { loadBlas } from "./blas.ts";
import { type ConvCase, S2D_CASES } from "./conv_cases.ts";
import { setS2dMode } from "./s2d_conv.ts";
import { assertWasmMatchesCpu, BLAS_AVAILABLE, randn } from "./test_util.ts";
import {
  type GridCorrelation,
  setWinogradMode,
  winogradCorrelate,
  type WinogradMode,
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

for (const [name, c] of GRIDS) {
  for (const m of [2, 3] as const) {
    for (const layout of ["kn", "nk"] as const) {
      Deno.test({
        name: `winogradCorrelate F(${m}×${m}, 2×2), ${layout}: ${name}`,
        ignore: !BLAS_AVAILABLE,
        fn: () => {
          const blas = loadBlas({ threads: 1 })!;
          try {
            const grid = values(c.n * c.rows * c.cols * c.k, 1);
            const taps = [0, 1, 2, 3].map((t) => values(c.k * c.co, 10 + t));
            const bias = layout === "kn" ? values(c.co, 7) : null;
            const size = c.n * c.outRows * c.outCols * c.co;
            const out = new Float32Array(size).fill(NaN);
            winogradCorrelate(blas, c, m, grid, { taps, layout }, bias, out);
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
        },
      });
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

for (const mode of ["f2", "f3"] as const) {
  for (const c of S2D_CASES) {
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
