import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { CONV_CASES, FEW_OUTPUT_CHANNEL_CASES } from "./conv_cases.ts";
import {
  assertWasmMatchesCpu,
  randn,
  useWasmPath,
  WASM_PATHS,
} from "./test_util.ts";

tf.enableProdMode();

for (const c of [...CONV_CASES, ...FEW_OUTPUT_CHANNEL_CASES]) {
  Deno.test(`Conv2DBackpropFilter wasm = cpu: ${c.name}`, async () => {
    await assertWasmMatchesCpu(() => {
      const x = randn(c.x, 1) as tf.Tensor4D;
      const filter = randn(c.filter, 2) as tf.Tensor4D;
      const outShape = tf.conv2d(x, filter, c.strides, c.pad).shape;
      const dy = randn(outShape, 3) as tf.Tensor4D;
      const dw = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: c.strides,
        pad: c.pad,
        dataFormat: "NHWC",
        filterShape: c.filter,
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return [dw];
    }, c.name);
  });
}

Deno.test("conv2d gradients (x and filter) through tf.grads: wasm = cpu", async () => {
  for (const c of CONV_CASES) {
    await assertWasmMatchesCpu(() => {
      const x = randn(c.x, 1) as tf.Tensor4D;
      const filter = randn(c.filter, 2) as tf.Tensor4D;
      const w = randn(tf.conv2d(x, filter, c.strides, c.pad).shape, 3);
      return tf.grads((a: tf.Tensor, f: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad),
            w,
          ),
        )
      )([x, filter]);
    }, `grads ${c.name}`);
  }
});

Deno.test("Conv2DBackpropFilter: large values agree relatively", async () => {
  await assertWasmMatchesCpu(() => {
    const x = tf.mul(randn([2, 12, 10, 8], 5), 40) as tf.Tensor4D;
    const filter = randn([4, 4, 8, 6], 2) as tf.Tensor4D;
    const w = tf.mul(randn([2, 6, 5, 6], 6), 25);
    return tf.grads((f: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, 2, "same"), w))
    )([filter]);
  }, "large values");
});

Deno.test("Conv2DBackpropFilter: NCHW fails clearly; intermediates are freed", async () => {
  await tf.setBackend("wasm");
  for (const path of WASM_PATHS) {
    useWasmPath(path);
    const x = randn([1, 6, 6, 2], 1) as tf.Tensor4D;
    const dy = randn([1, 3, 3, 4], 2) as tf.Tensor4D;
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const before = backend.numDataIds();
    const attrs = { strides: 2, pad: "same", filterShape: [4, 4, 2, 4] };
    const dw = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
      ...attrs,
      dataFormat: "NHWC",
    }) as tf.Tensor;
    assert.equal(
      backend.numDataIds(),
      before + 1,
      "only the output stays allocated",
    );
    assert.throws(
      () =>
        tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
          ...attrs,
          dataFormat: "NCHW",
        }),
      /NCHW/,
    );
    tf.dispose([x, dy, dw]);
  }
});
