import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  ADAM_UPDATE,
  adamSimdAvailable,
  fusedAdam,
  setAdamSimd,
} from "./fused_adam.ts";
import type { WasmBackendLike } from "./wasm_heap.ts";
import { assertClose, randn, runOn, useWasmPath } from "./test_util.ts";

tf.enableProdMode();

/** Three Adam steps on a small problem; returns the variables and the optimizer state. */
function adamRun(fused: boolean): tf.Tensor[] {
  const w = tf.variable(
    tf.randomNormal([5, 7], 0, 1, "float32", 1),
    true,
    `w_${fused}_${Math.random()}`,
  );
  const b = tf.variable(
    tf.randomNormal([7], 0, 1, "float32", 2),
    true,
    `b_${fused}_${Math.random()}`,
  );
  const x = tf.randomNormal([4, 5], 0, 1, "float32", 3);
  const y = tf.randomNormal([4, 7], 0, 1, "float32", 4);
  const opt = fused
    ? fusedAdam(2e-2, 0.5, 0.999, 1e-8)
    : tf.train.adam(2e-2, 0.5, 0.999, 1e-8);
  for (let i = 0; i < 3; i++) {
    opt.minimize(() =>
      tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar
    );
  }
  const state =
    (opt as unknown as { accumulatedSecondMoment: { variable: tf.Variable }[] })
      .accumulatedSecondMoment.map((s) => s.variable.clone());
  const out = [w.clone(), b.clone(), ...state];
  opt.dispose();
  tf.dispose([w, b]);
  return out;
}

Deno.test("FusedAdamOptimizer on wasm = tf.train.adam on cpu (values and state, 3 steps)", async () => {
  const expected = await runOn("cpu", () => adamRun(false));
  const actual = await runOn("xnnpack", () => adamRun(true));
  assertClose(actual, expected, 1e-5, "adam");
  const plain = await runOn("cpu", () => adamRun(true));
  assertClose(plain, expected, 0, "fused adam off wasm is tf.train.adam");
});

Deno.test("FusedAdamOptimizer: getWeights names and iterations match tf.train.adam", async () => {
  await tf.setBackend("wasm");
  useWasmPath("xnnpack");
  const v = tf.variable(tf.ones([3]), true, "fused_adam_weights_test");
  const opt = fusedAdam(0.1, 0.5, 0.999);
  opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar);
  const weights = await opt.getWeights();
  assert.deepEqual(weights.map((w) => w.name), [
    "iter",
    "fused_adam_weights_test/m",
    "fused_adam_weights_test/v",
  ]);
  assert.equal(weights[0].tensor.dataSync()[0], 1);
  opt.dispose();
  v.dispose();
});

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
