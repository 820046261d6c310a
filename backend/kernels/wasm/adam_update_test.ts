import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ADAM_UPDATE, adamSimdAvailable, setAdamSimd } from "./adam_update.ts";
import type { WasmBackendLike } from "../wasm_heap.ts";
import { assertClose, runOn, useWasmPath } from "../test_util.ts";
import { adamAttrs, adamInputs, adamReference } from "../adam_cases.ts";

tf.enableProdMode();

Deno.test("P2pAdamUpdate: the SIMD loop = the JavaScript loop = tf.train.adam's formula on cpu (odd lengths, tails)", async () => {
  await tf.setBackend("wasm");
  useWasmPath("xnnpack");
  assert.ok(
    adamSimdAvailable(tf.backend() as unknown as WasmBackendLike),
    "the SIMD loop loads on tfjs-wasm's memory",
  );
  const attrs = adamAttrs(3);
  // Lengths 1, 3 (tail only), 4, 13 (three vectors and a tail), 35 (2-D).
  for (const shape of [[1], [3], [4], [13], [5, 7]]) {
    const inputs = () => adamInputs(shape);
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
    const expected = await runOn("cpu", () => adamReference(inputs(), attrs));
    assertClose(simd, expected, 1e-5, `adam simd vs cpu, shape [${shape}]`);
  }
});

Deno.test("P2pAdamUpdate inPlace: overwrites unshared value, m, v (same data ids, same values) and leaves shared ones alone", async () => {
  await tf.setBackend("wasm");
  useWasmPath("xnnpack");
  const attrs = adamAttrs(2);
  const shape = [5, 7];
  const make = () => tf.tidy(() => adamInputs(shape));
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
