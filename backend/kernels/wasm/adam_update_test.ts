import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ADAM_UPDATE, adamSimdAvailable, setAdamSimd } from "./adam_update.ts";
import type { WasmBackendLike } from "../wasm_heap.ts";
import { assertClose, randn, runOn, useWasmPath } from "../test_util.ts";

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

Deno.test("P2pAdamUpdate inPlace: overwrites unshared value, m, v (same data ids, same values) and leaves shared ones alone", async () => {
  await tf.setBackend("wasm");
  useWasmPath("xnnpack");
  const attrs = {
    lr: 2e-2,
    beta1: 0.5,
    beta2: 0.999,
    epsilon: 1e-7,
    c1: 1 - 0.5 ** 2,
    c2: 1 - 0.999 ** 2,
  };
  const shape = [5, 7];
  const make = () =>
    tf.tidy(() => ({
      value: randn(shape, 1),
      m: randn(shape, 2),
      v: tf.abs(randn(shape, 3)),
      grad: randn(shape, 4),
    }));
  const fresh = make();
  const expected = tf.engine().runKernel(
    ADAM_UPDATE,
    fresh,
    attrs,
  ) as tf.Tensor[];
  const before = tf.memory() as { numBytes: number; numTensors: number };
  const inputs = make();
  const shared = inputs.m.clone(); // m's memory is shared: not overwritten
  const mBefore = await shared.data();
  const outs = tf.engine().runKernel(ADAM_UPDATE, inputs, {
    ...attrs,
    inPlace: true,
  }) as tf.Tensor[];
  assert.equal(outs[0].dataId, inputs.value.dataId);
  assert.notEqual(outs[1].dataId, inputs.m.dataId);
  assert.equal(outs[2].dataId, inputs.v.dataId);
  const read = (ts: tf.Tensor[]) => ({
    shapes: ts.map((t) => t.shape),
    values: ts.map((t) => t.dataSync() as Float32Array),
  });
  assertClose(read(outs), read(expected), 0, "in place vs fresh outputs");
  assert.deepEqual(await shared.data(), mBefore);
  assert.deepEqual(await inputs.m.data(), mBefore);
  tf.dispose([...outs, ...Object.values(inputs), shared]);
  assert.equal(tf.memory().numBytes, before.numBytes);
  assert.equal(tf.memory().numTensors, before.numTensors);
  tf.dispose([...expected, ...Object.values(fresh)]);
});
