import assert from "node:assert/strict";
import {
  mergeModeResults,
  mergeTorchResults,
  type ModeResult,
  type P2pResult,
  type TorchResult,
} from "./bench.ts";
import { summarize } from "./stats.ts";

function p2p(train: number[], infer: number[], peak: number): P2pResult {
  return {
    train: summarize(train),
    infer: summarize(infer),
    trainTensorGrowth: 0,
    inferTensorGrowth: train.length - 3,
    trainPeakBytes: peak,
  };
}

function mode(results: Record<string, P2pResult>, peak: number): ModeResult {
  return {
    spec: {
      backend: "wasm",
      threads: 1,
      kernels: "p2p",
      blas: "auto",
      configs: Object.keys(results) as ("full" | "small")[],
      steps: 3,
      warmup: 1,
      profile: false,
    },
    engine: "test engine",
    peak,
    results,
  };
}

Deno.test("mergeModeResults pools each configuration's samples across rounds and keeps the worst growth and peak", () => {
  const merged = mergeModeResults([
    mode({ full: p2p([10, 30, 20], [1, 3, 2], 100) }, 70),
    mode({ small: p2p([5, 6, 7], [0.5, 0.6, 0.7], 10) }, 72),
    mode({ full: p2p([40, 50, 60, 70], [4, 5, 6, 7], 120) }, 71),
  ]);
  assert.deepEqual(merged.spec.configs, ["full", "small"]);
  assert.equal(merged.peak, 72);
  const full = merged.results.full;
  assert.deepEqual(full.train.samples, [10, 30, 20, 40, 50, 60, 70]);
  assert.equal(full.train.median, 40);
  assert.equal(full.infer.min, 1);
  assert.equal(full.infer.max, 7);
  assert.equal(full.trainPeakBytes, 120);
  assert.equal(full.inferTensorGrowth, 1, "the larger growth of the two runs");
  assert.deepEqual(merged.results.small.train.samples, [5, 6, 7]);
  assert.throws(() => mergeModeResults([]), /no runs/);
});

Deno.test("mergeTorchResults pools timings by configuration and keeps the highest matmul peak", () => {
  const run = (
    peak: number,
    configs: TorchResult["configs"],
  ): TorchResult => ({
    torch: "1.13",
    threads: 2,
    matmul_gflops: peak,
    configs,
  });
  const merged = mergeTorchResults([
    run(120, { full: { train_ms: [1, 2], infer_ms: [3] } }),
    run(150, { small: { train_ms: [4], infer_ms: [5] } }),
    run(130, { full: { train_ms: [6], infer_ms: [7, 8] } }),
  ]);
  assert.equal(merged.matmul_gflops, 150);
  assert.deepEqual(merged.configs.full, {
    train_ms: [1, 2, 6],
    infer_ms: [3, 7, 8],
  });
  assert.deepEqual(merged.configs.small, { train_ms: [4], infer_ms: [5] });
  assert.throws(() => mergeTorchResults([]), /no runs/);
});
