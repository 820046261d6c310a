import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu, registerWebGpuKernels, selectBackend } from "@p2p/backend";
import {
  BATCH_NORM_TRAIN_KERNEL,
  batchNormTrain,
  batchNormTrainFused,
  movingAverage,
} from "./batch_norm_train.ts";
import { assertArraysClose } from "./test_helpers.ts";

tf.enableProdMode();

/** Odd shapes: batch > 1, one channel, non-square, C not a multiple of 4, rank 2. */
const SHAPES: number[][] = [
  [2, 3, 5, 1],
  [1, 4, 6, 3],
  [3, 5, 2, 7],
  [2, 1, 1, 5],
  [6, 9],
  [1, 8, 8, 64],
];

/** y, μ, σ² and the gradients of a loss that uses all three, as arrays. */
function run(shape: number[], fused: boolean): Float32Array[] {
  const ts = tensors(shape, fused);
  const out = ts.map((t) => t.dataSync() as Float32Array);
  tf.dispose(ts);
  return out;
}

/** {@linkcode run}, reading the values asynchronously (WebGPU). */
async function runAsync(
  shape: number[],
  fused: boolean,
): Promise<Float32Array[]> {
  const ts = tensors(shape, fused);
  const out: Float32Array[] = [];
  for (const t of ts) out.push(await t.data() as Float32Array);
  tf.dispose(ts);
  return out;
}

/** y, μ, σ² and the gradients of a loss that uses all three. */
function tensors(shape: number[], fused: boolean): tf.Tensor[] {
  return tf.tidy(() => {
    const c = shape[shape.length - 1];
    // A mean far from 0 checks the variance does not cancel away.
    const x = tf.add(tf.randomNormal(shape, 0, 2, "float32", 1), 3);
    const gamma = tf.randomNormal([c], 1, 0.3, "float32", 2);
    const beta = tf.randomNormal([c], 0, 0.3, "float32", 3);
    const w = tf.randomNormal(shape, 0, 1, "float32", 4);
    const a = tf.randomNormal([c], 0, 1, "float32", 5);
    const b = tf.randomNormal([c], 0, 1, "float32", 6);
    const f = (xx: tf.Tensor, g: tf.Tensor, bb: tf.Tensor) => {
      const { y, mean, variance } = batchNormTrain(xx, g, bb, { fused });
      return tf.addN([
        tf.sum(tf.mul(y, w)),
        tf.sum(tf.mul(mean, a)),
        tf.sum(tf.mul(variance, b)),
      ]) as tf.Scalar;
    };
    const { y, mean, variance } = batchNormTrain(x, gamma, beta, { fused });
    const [dx, dg, db] = tf.grads(f)([x, gamma, beta]);
    // Only y's gradient (the statistics' gradients are zeros tfjs fills in).
    const [dxY] = tf.grads((xx: tf.Tensor) =>
      tf.sum(tf.mul(batchNormTrain(xx, gamma, beta, { fused }).y, w))
    )([x]);
    return [y, mean, variance, dx, dg, db, dxY];
  });
}

/** The outputs of `run`, as assertion messages name them. */
const NAMES = [
  "y",
  "mean",
  "variance",
  "dx",
  "dgamma",
  "dbeta",
  "dx (y only)",
];

Deno.test("batchNormTrain: the wasm kernels = the composite tf ops on wasm = tfjs cpu (values, gradients, odd shapes)", async () => {
  await selectBackend({ backend: "wasm", log: null });
  assert.ok(batchNormTrainFused(), "P2pBatchNormTrain is registered on wasm");
  for (const shape of SHAPES) {
    await tf.setBackend("cpu");
    assert.equal(batchNormTrainFused(), false);
    const before = tf.memory().numTensors;
    const cpu = run(shape, true);
    assert.equal(tf.memory().numTensors, before, "no tensors leak on cpu");
    await tf.setBackend("wasm");
    const beforeWasm = tf.memory().numTensors;
    const fused = run(shape, true);
    const composite = run(shape, false);
    assert.equal(tf.memory().numTensors, beforeWasm, "no tensors leak on wasm");
    assertArraysClose(
      fused,
      composite,
      2e-5,
      `[${shape}] fused vs composite`,
      NAMES,
    );
    assertArraysClose(fused, cpu, 2e-5, `[${shape}] fused vs cpu`, NAMES);
  }
});

Deno.test({
  name:
    "batchNormTrain: the WebGPU kernels = tfjs cpu (values, gradients, odd shapes)",
  ignore: (await probeGpu()).adapter === null,
  fn: async () => {
    await selectBackend({ backend: "webgpu", log: null });
    registerWebGpuKernels();
    for (const shape of SHAPES) {
      await tf.setBackend("cpu");
      const cpu = run(shape, true);
      await tf.setBackend("webgpu");
      assert.ok(
        batchNormTrainFused(),
        "P2pBatchNormTrain is registered on webgpu",
      );
      const before = tf.memory().numTensors;
      const gpu = await runAsync(shape, true);
      assert.equal(tf.memory().numTensors, before, "no tensors leak on webgpu");
      assertArraysClose(gpu, cpu, 1e-4, `[${shape}] webgpu vs cpu`, NAMES);
    }
  },
});

Deno.test("batchNormTrain: a gradient of its gradient (the WGAN-GP penalty) matches the composite ops", async () => {
  await selectBackend({ backend: "wasm", log: null });
  const penalty = (fused: boolean) =>
    tf.tidy(() => {
      const shape = [2, 3, 4, 5];
      const x = tf.randomNormal(shape, 0, 1, "float32", 7);
      const gamma = tf.randomNormal([5], 1, 0.3, "float32", 8);
      const beta = tf.randomNormal([5], 0, 0.3, "float32", 9);
      const w = tf.randomNormal(shape, 0, 1, "float32", 10);
      const [dg] = tf.grads((g: tf.Tensor) => {
        const [dx] = tf.grads((xx: tf.Tensor) =>
          tf.sum(tf.mul(tf.square(batchNormTrain(xx, g, beta, { fused }).y), w))
        )([x]);
        return tf.sum(tf.square(dx)) as tf.Scalar;
      })([gamma]);
      return dg.dataSync() as Float32Array;
    });
  const fused = penalty(true);
  const composite = penalty(false);
  for (let i = 0; i < fused.length; i++) {
    assert.ok(
      Math.abs(fused[i] - composite[i]) <=
        1e-3 * Math.max(1, Math.abs(composite[i])),
      `dγ[${i}]: ${fused[i]} vs ${composite[i]}`,
    );
  }
});

Deno.test("batchNormTrain: the fused moving-average update = tfjs-layers' ops on the batch statistics, bit for bit", async () => {
  await selectBackend({ backend: "wasm", log: null });
  for (const shape of SHAPES) {
    const c = shape[shape.length - 1];
    const [fused, ops, composite] = tf.tidy(() => {
      const x = tf.add(tf.randomNormal(shape, 0, 2, "float32", 1), 3);
      const gamma = tf.randomNormal([c], 1, 0.3, "float32", 2);
      const beta = tf.randomNormal([c], 0, 0.3, "float32", 3);
      const moving = {
        mean: tf.randomNormal([c], 0, 1, "float32", 4),
        variance: tf.abs(tf.randomNormal([c], 1, 1, "float32", 5)),
        momentum: 0.9,
      };
      const r = batchNormTrain(x, gamma, beta, { moving });
      const plain = batchNormTrain(x, gamma, beta, { moving, fused: false });
      return [
        [r.movingMean!, r.movingVariance!],
        [
          movingAverage(moving.mean, r.mean, 0.9),
          movingAverage(moving.variance, r.variance, 0.9),
        ],
        [plain.movingMean!, plain.movingVariance!],
      ].map((ts) => ts.map((t) => Array.from(t.dataSync())));
    });
    assert.deepEqual(fused, ops, `[${shape}] bit for bit`);
    composite.flat().forEach((v, i) =>
      assert.ok(
        Math.abs(v - fused.flat()[i]) <= 1e-5 * Math.max(1, Math.abs(v)),
      )
    );
  }
});

Deno.test("batchNormTrain: rejects γ or β that do not match the channels", () => {
  tf.tidy(() => {
    assert.throws(
      () => batchNormTrain(tf.zeros([2, 3]), tf.ones([4]), tf.zeros([3])),
      /shape \[3\]/,
    );
  });
  assert.equal(BATCH_NORM_TRAIN_KERNEL, "P2pBatchNormTrain");
});
