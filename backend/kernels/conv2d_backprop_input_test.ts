import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { CONV_CASES, FEW_OUTPUT_CHANNEL_CASES } from "./conv_cases.ts";
import { assertWasmMatchesCpu, randn } from "./test_util.ts";
import {
  fastWasmKernelsRegistered,
  registerFastWasmKernels,
} from "../wasm_kernels.ts";

tf.enableProdMode();

for (const c of [...CONV_CASES, ...FEW_OUTPUT_CHANNEL_CASES]) {
  Deno.test(`Conv2DBackpropInput (conv2dTranspose) wasm = cpu: ${c.name}`, async () => {
    await assertWasmMatchesCpu(() => {
      const filter = randn(c.filter, 2) as tf.Tensor4D;
      const outShape =
        tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, filter, c.strides, c.pad).shape;
      const dy = randn(outShape, 3) as tf.Tensor4D;
      return [tf.conv2dTranspose(dy, filter, c.x, c.strides, c.pad)];
    }, c.name);
  });
}

Deno.test("conv2dTranspose gradients (dy and filter) through tf.grads: wasm = cpu", async () => {
  for (const c of CONV_CASES.slice(0, 4)) {
    await assertWasmMatchesCpu(() => {
      const filter = randn(c.filter, 2) as tf.Tensor4D;
      const outShape =
        tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, filter, c.strides, c.pad).shape;
      const dy = randn(outShape, 3) as tf.Tensor4D;
      const w = randn(c.x, 4);
      return tf.grads((a: tf.Tensor, f: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.conv2dTranspose(
              a as tf.Tensor4D,
              f as tf.Tensor4D,
              c.x,
              c.strides,
              c.pad,
            ),
            w,
          ),
        )
      )([dy, filter]);
    }, `grads ${c.name}`);
  }
});

Deno.test("Conv2DBackpropInput: large values agree relatively", async () => {
  await assertWasmMatchesCpu(() => {
    const filter = tf.mul(randn([4, 4, 16, 8], 5), 30) as tf.Tensor4D;
    const dy = tf.mul(randn([1, 5, 6, 8], 6), 50) as tf.Tensor4D;
    return [tf.conv2dTranspose(dy, filter, [1, 10, 12, 16], 2, "same")];
  }, "large values");
});

Deno.test("Conv2DBackpropInput: frees its intermediates; registration is idempotent", async () => {
  await tf.setBackend("wasm");
  registerFastWasmKernels();
  registerFastWasmKernels();
  assert.ok(fastWasmKernelsRegistered());
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const dy = randn([2, 3, 5, 4], 1) as tf.Tensor4D;
  const filter = randn([4, 4, 3, 4], 2) as tf.Tensor4D;
  const before = backend.numDataIds();
  const dx = tf.conv2dTranspose(dy, filter, [2, 6, 9, 3], 2, "same");
  assert.equal(
    backend.numDataIds(),
    before + 1,
    "only the output stays allocated",
  );
  tf.dispose([dy, filter, dx]);
});
