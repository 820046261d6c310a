import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu, registerWebGpuKernels, selectBackend } from "@p2p/backend";
import {
  LEAKY_RELU_GRAD_KERNEL,
  registerLeakyReluGradient,
} from "./leaky_relu_grad.ts";

tf.enableProdMode();

const gpu = await probeGpu();

/** Odd shapes: batch > 1, one channel, non-square, sizes not a multiple of 4. */
const SHAPES: number[][] = [[2, 5, 3, 1], [3, 4, 6, 8], [1, 7, 9, 3], [5]];

function randn(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed);
}

/** dx of Σ w · leakyRelu(x), x with exact zeros. */
function gradOf(shape: number[], alpha: number): () => tf.Tensor[] {
  return () => {
    // Rounded to 1/4: some elements are exactly 0 (x > 0 is strict).
    const x = tf.div(tf.round(tf.mul(randn(shape, 1), 4)), 4);
    const w = randn(shape, 2);
    const f = (a: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(a, alpha), w));
    return [tf.grad(f)(x)];
  };
}

async function run(
  backend: string,
  f: () => tf.Tensor[],
): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend), `backend ${backend} did not start`);
  const outs = tf.tidy(f);
  const values: Float32Array[] = [];
  for (const t of outs) values.push(await t.data() as Float32Array);
  tf.dispose(outs);
  return values;
}

Deno.test("registerLeakyReluGradient: tfjs's gradient where the backend lacks the kernel", async () => {
  registerLeakyReluGradient();
  await tf.setBackend("cpu");
  const x = tf.tensor1d([-2, -0.5, 0, 0.5, 3]);
  const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.leakyRelu(a, 0.2)))(x);
  assert.deepEqual(
    Array.from(await dx.data()),
    [0.2, 0.2, 0.2, 1, 1].map(Math.fround),
  );
  tf.dispose([x, dx]);
});

Deno.test({
  name:
    "P2pLeakyReluGrad: the WebGPU kernel's gradient = cpu to 1e-4 on odd shapes, and it runs",
  ignore: gpu.adapter === null,
  fn: async () => {
    registerLeakyReluGradient();
    await selectBackend({ backend: "webgpu", log: null });
    registerWebGpuKernels();
    for (const shape of SHAPES) {
      for (const alpha of [0.2, 0.3]) {
        const expected = await run("cpu", gradOf(shape, alpha));
        const actual = await run("webgpu", gradOf(shape, alpha));
        for (const [i, e] of expected.entries()) {
          const a = actual[i];
          assert.equal(a.length, e.length);
          for (let j = 0; j < e.length; j++) {
            assert.ok(
              Math.abs(a[j] - e[j]) <= 1e-4 * Math.max(1, Math.abs(e[j])),
              `[${shape}] alpha ${alpha} output ${i} element ${j}: ${a[j]} vs ${
                e[j]
              }`,
            );
          }
        }
      }
    }
    const info = await tf.profile(() =>
      tf.tidy(() => gradOf([2, 3, 4, 5], 0.2)()[0])
    );
    assert.ok(
      info.kernelNames.includes(LEAKY_RELU_GRAD_KERNEL),
      `kernels run: ${info.kernelNames}`,
    );
  },
});

Deno.test("P2pLeakyReluGrad: the wasm kernel's gradient = cpu bit for bit on odd shapes, and it runs", async () => {
  registerLeakyReluGradient();
  await selectBackend({ backend: "wasm", log: null });
  for (const shape of SHAPES) {
    for (const alpha of [0.2, 0.3]) {
      const expected = await run("cpu", gradOf(shape, alpha));
      const actual = await run("wasm", gradOf(shape, alpha));
      for (const [i, e] of expected.entries()) {
        assert.deepEqual(
          Array.from(actual[i]),
          Array.from(e),
          `[${shape}] alpha ${alpha} output ${i}`,
        );
      }
    }
  }
  const info = await tf.profile(() =>
    tf.tidy(() => gradOf([2, 3, 4, 5], 0.2)()[0])
  );
  assert.ok(
    info.kernelNames.includes(LEAKY_RELU_GRAD_KERNEL),
    `kernels run: ${info.kernelNames}`,
  );
});
