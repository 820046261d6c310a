import assert from "node:assert/strict";
import { loadBlas } from "./blas.ts";
import { scratchViews } from "./scratch_arena.ts";
import { BLAS_AVAILABLE, uniformValues } from "./test_util.ts";
import { FILTER_GRAD_VARIANTS } from "./wasm/winograd_wat.ts";
import type { GridCorrelation } from "./winograd.ts";
import {
  filterGradScratch,
  type FilterGradVariant,
  winogradFilterGrad,
  winogradFilterScratchSizes,
} from "./winograd_filter.ts";

/** The taps' gradients by their definition, in float64. */
function naive(
  c: GridCorrelation,
  grid: Float32Array,
  dy: Float32Array,
): Float64Array[] {
  const out = Array.from(
    { length: c.r * c.r },
    () => new Float64Array(c.k * c.co),
  );
  const at = (b: number, r: number, col: number, ch: number) =>
    r < c.rows && col < c.cols
      ? grid[((b * c.rows + r) * c.cols + col) * c.k + ch]
      : 0;
  for (let b = 0; b < c.n; b++) {
    for (let i = 0; i < c.oh; i++) {
      for (let j = 0; j < c.ow; j++) {
        const o = ((b * c.outRows + i) * c.outCols + j) * c.co;
        for (let t = 0; t < c.r * c.r; t++) {
          const p = Math.floor(t / c.r), q = t % c.r;
          for (let ch = 0; ch < c.k; ch++) {
            const x = at(b, i + p, j + q, ch);
            for (let co = 0; co < c.co; co++) {
              out[t][ch * c.co + co] += x * dy[o + co];
            }
          }
        }
      }
    }
  }
  return out;
}

const CASES: [string, GridCorrelation][] = [
  ["2×2, batch 2, odd non-square, dy with spare columns, 5 → 3 channels", {
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
  ["2×2, channels in fours (SIMD in the arena), tiles past both edges", {
    n: 2,
    rows: 8,
    cols: 11,
    k: 8,
    r: 2,
    oh: 7,
    ow: 10,
    co: 12,
    outRows: 7,
    outCols: 10,
  }],
  ["4×4, batch 2, 8 → 4 channels, odd sizes", {
    n: 2,
    rows: 11,
    cols: 10,
    k: 8,
    r: 4,
    oh: 8,
    ow: 7,
    co: 4,
    outRows: 8,
    outCols: 7,
  }],
  ["4×4, 1 channel in (JavaScript loops)", {
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

function check(
  c: GridCorrelation,
  v: FilterGradVariant,
  arena: boolean,
): void {
  const blas = loadBlas({ threads: 1 })!;
  try {
    const r2 = c.r * c.r;
    const kn = c.k * c.co;
    const gridSize = c.n * c.rows * c.cols * c.k;
    const dySize = c.n * c.outRows * c.outCols * c.co;
    const sizes = [gridSize, dySize, r2 * kn];
    const scratchSizes = winogradFilterScratchSizes(c, v);
    const views = arena
      ? scratchViews([...sizes, ...scratchSizes])
      : [...sizes, ...scratchSizes].map((n) => new Float32Array(n));
    const [grid, dy, out, ...rest] = views;
    grid.set(uniformValues(gridSize, 3));
    dy.set(uniformValues(dySize, 5));
    const taps = Array.from(
      { length: r2 },
      (_, t) => out.subarray(t * kn, (t + 1) * kn),
    );
    out.fill(NaN);
    winogradFilterGrad(blas, c, v, grid, dy, taps, filterGradScratch(rest));
    const want = naive(c, grid, dy);
    const tol = v.m + v.r > 5 ? 2e-5 : 1e-5;
    want.forEach((w, t) => {
      for (let e = 0; e < kn; e++) {
        assert.ok(
          Math.abs(taps[t][e] - w[e]) <= tol * (1 + Math.abs(w[e])),
          `tap ${t}, entry ${e}: ${taps[t][e]}, expected ${w[e]}`,
        );
      }
    });
  } finally {
    blas.close();
  }
}

for (const [name, c] of CASES) {
  for (const v of FILTER_GRAD_VARIANTS.filter((v) => v.r === c.r)) {
    for (const arena of [false, true]) {
      Deno.test({
        name: `winogradFilterGrad F(${v.r}×${v.r}, ${v.m}×${v.m}), ${
          arena ? "in the arena" : "plain arrays"
        }: ${name}`,
        ignore: !BLAS_AVAILABLE,
        fn: () => check(c, v, arena),
      });
    }
  }
}

Deno.test("FILTER_GRAD_VARIANTS share their forward variant's input transform", async () => {
  const { WINOGRAD_VARIANTS } = await import("./wasm/winograd_wat.ts");
  for (const v of FILTER_GRAD_VARIANTS) {
    const f = WINOGRAD_VARIANTS.find((w) => w.name === v.input);
    assert.ok(f, `no forward variant ${v.input}`);
    assert.deepEqual(v.bt, f.bt);
    assert.equal(v.m + v.r, f.m + f.r, "the same tile α");
  }
});
