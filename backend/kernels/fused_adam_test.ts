import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ADAM_UPDATE, adamSimdAvailable, setAdamSimd } from "./fused_adam.ts";
import type { WasmBackendLike } from "./wasm_heap.ts";
import { assertClose, randn, runOn, useWasmPath } from "./test_util.ts";

tf.enableProdMode();

Deno.test("P2pAdamUpdate: the SIMD loop = the JavaScript loop = tf.train.adam's formula on cpu (odd lengths, tails)", async () => {
  await tf.setBackend("wasm");
  useWasmPath("xnnpack");
  assert.ok(
    adamSimdAvailable(tf.backend() as unknown as WasmBackendLike),
    "the SIMD loop loads on tfjs-wasm's memory",
  );
  const attrs = {
    lr: 2e-2,
    beta1: 0.5,
    beta2: 0.999,
    epsilon: 1e-7,
    c1: 1 - 0.5 ** 3,
    c2: 1 - 0.999 ** 3,
  };
  // Lengths 1, 3 (tail only), 4, 13 (three vectors and a tail), 35 (2-D).
  for (const shape of [[1], [3], [4], [13], [5, 7]]) {
    const inputs = () => ({
      value: randn(shape, 1),
      m: randn(shape, 2),
      v: tf.abs(randn(shape, 3)),
      grad: randn(shape, 4),
    });
    const fused = () =>
      tf.engine().runKernel(ADAM_UPDATE, inputs(), attrs) as tf.Tensor[];
    const simd = await runOn("xnnpack", fused);
    setAdamSimd(false);
    let js;
    try {
      js = await runOn("xnnpack", fused);
    } finally {
      setAdamSimd(true);
    }
    assertClose(simd, js, 1e-6, `adam simd vs js, shape [${shape}]`);
    const expected = await runOn("cpu", () => {
      const { value, m, v, grad } = inputs();
      const m1 = tf.add(tf.mul(m, attrs.beta1), tf.mul(grad, 1 - attrs.beta1));
      const v1 = tf.add(
        tf.mul(v, attrs.beta2),
        tf.mul(tf.square(grad), 1 - attrs.beta2),
      );
      const p1 = tf.sub(
        value,
        tf.mul(
          attrs.lr,
          tf.div(
            tf.div(m1, attrs.c1),
            tf.add(tf.sqrt(tf.div(v1, attrs.c2)), attrs.epsilon),
          ),
        ),
      );
      return [p1, m1, v1];
    });
    assertClose(simd, expected, 1e-5, `adam simd vs cpu, shape [${shape}]`);
  }
});
