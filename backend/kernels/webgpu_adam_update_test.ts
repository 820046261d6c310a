import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu } from "../select_backend.ts";
import {
  assertClose,
  randn,
  runOnBackend,
  useWebGpuKernels,
} from "./test_util.ts";
import { ADAM_UPDATE } from "./webgpu_adam_update.ts";
import { unregisterWebGpuKernels } from "../webgpu_kernels.ts";

tf.enableProdMode();

const gpu = await probeGpu();

const ATTRS = {
  lr: 2e-2,
  beta1: 0.5,
  beta2: 0.999,
  epsilon: 1e-7,
  c1: 1 - 0.5 ** 3,
  c2: 1 - 0.999 ** 3,
};

function inputs(shape: number[]) {
  return {
    value: randn(shape, 1),
    m: randn(shape, 2),
    v: tf.abs(randn(shape, 3)),
    grad: randn(shape, 4),
  };
}

Deno.test({
  name:
    "P2pAdamUpdate: the WebGPU kernel = tf.train.adam's formula on cpu (odd shapes, several workgroups)",
  ignore: gpu.adapter === null,
  fn: async () => {
    await useWebGpuKernels();
    assert.ok(tf.getKernel(ADAM_UPDATE, "webgpu"), "kernel not registered");
    // 1, 13, 2-D 5 × 7, conv kernels (the last over 540 workgroups, with a tail).
    for (
      const shape of [[1], [13], [5, 7], [4, 4, 3, 65], [4, 4, 129, 67]]
    ) {
      const actual = await runOnBackend("webgpu", () =>
        tf.engine().runKernel(
          ADAM_UPDATE,
          inputs(shape),
          ATTRS,
        ) as tf.Tensor[]);
      const expected = await runOnBackend("cpu", () => {
        const { value, m, v, grad } = inputs(shape);
        const m1 = tf.add(
          tf.mul(m, ATTRS.beta1),
          tf.mul(grad, 1 - ATTRS.beta1),
        );
        const v1 = tf.add(
          tf.mul(v, ATTRS.beta2),
          tf.mul(tf.square(grad), 1 - ATTRS.beta2),
        );
        const p1 = tf.sub(
          value,
          tf.mul(
            ATTRS.lr,
            tf.div(
              tf.div(m1, ATTRS.c1),
              tf.add(tf.sqrt(tf.div(v1, ATTRS.c2)), ATTRS.epsilon),
            ),
          ),
        );
        return [p1, m1, v1];
      });
      assert.deepEqual(actual.shapes, [shape, shape, shape]);
      assertClose(actual, expected, 1e-6, `adam webgpu vs cpu [${shape}]`);
    }
    unregisterWebGpuKernels();
    assert.ok(!tf.getKernel(ADAM_UPDATE, "webgpu"), "kernel still registered");
  },
});
