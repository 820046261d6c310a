import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { batchNormLoops, setBatchNormSimd } from "./batch_norm_simd.ts";
import type { WasmBackendLike } from "./wasm_heap.ts";
import { randn, useWasmPath } from "./test_util.ts";

tf.enableProdMode();

/** Outputs of `kernel` on `inputs`, read back, with the SIMD loops on or off. */
function run(
  kernel: string,
  inputs: () => Record<string, tf.Tensor>,
  simd: boolean,
): Float32Array[] {
  setBatchNormSimd(simd);
  try {
    return tf.tidy(() => {
      const outs = tf.engine().runKernel(kernel, inputs(), {
        epsilon: 1e-5,
      }) as tf.Tensor[];
      return outs.map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    setBatchNormSimd(true);
  }
}

Deno.test("batch-norm SIMD loops = the JavaScript loops bit for bit (forward and gradient; even channels, odd fall back)", async () => {
  await tf.setBackend("wasm");
  useWasmPath("xnnpack");
  assert.ok(
    batchNormLoops(tf.backend() as unknown as WasmBackendLike),
    "the SIMD loops load on tfjs-wasm's memory",
  );
  const before = tf.memory().numTensors;
  for (
    const shape of [[1, 1, 1, 2], [1, 3, 5, 4], [2, 7, 3, 6], [1, 4, 4, 32], [
      1,
      2,
      2,
      7,
    ], [1, 9, 3]]
  ) {
    const c = shape[shape.length - 1];
    const fwd = () => ({
      // A large mean, as the shifted sums are there for.
      x: tf.add(randn(shape, 1), 50),
      gamma: randn([c], 2),
      beta: randn([c], 3),
    });
    const a = run("P2pBatchNormTrain", fwd, true);
    const b = run("P2pBatchNormTrain", fwd, false);
    a.forEach((v, i) => assert.deepEqual(v, b[i], `forward ${i}, [${shape}]`));
    const grad = () => ({
      dy: randn(shape, 4),
      x: randn(shape, 5),
      gamma: randn([c], 6),
      mean: randn([c], 7),
      variance: tf.abs(randn([c], 8)),
      dmean: randn([c], 9),
      dvariance: randn([c], 10),
    });
    const ga = run("P2pBatchNormTrainGrad", grad, true);
    const gb = run("P2pBatchNormTrainGrad", grad, false);
    ga.forEach((v, i) => assert.deepEqual(v, gb[i], `grad ${i}, [${shape}]`));
  }
  assert.equal(tf.memory().numTensors, before);
});
