import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu } from "../select_backend.ts";
import { adamAttrs, adamInputs, adamReference } from "./adam_cases.ts";
import { assertClose, runOnBackend, useWebGpuKernels } from "./test_util.ts";
import { ADAM_UPDATE } from "./webgpu_adam_update.ts";
import { unregisterWebGpuKernels } from "../webgpu_kernels.ts";

tf.enableProdMode();

const gpu = await probeGpu();

const ATTRS = adamAttrs(3);

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
          adamInputs(shape),
          ATTRS,
        ) as tf.Tensor[]);
      const expected = await runOnBackend(
        "cpu",
        () => adamReference(adamInputs(shape), ATTRS),
      );
      assert.deepEqual(actual.shapes, [shape, shape, shape]);
      assertClose(actual, expected, 1e-6, `adam webgpu vs cpu [${shape}]`);
    }
    unregisterWebGpuKernels();
    assert.ok(!tf.getKernel(ADAM_UPDATE, "webgpu"), "kernel still registered");
  },
});
