import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { CONV_CASES, FEW_OUTPUT_CHANNEL_CASES } from "./conv_cases.ts";
import {
  assertWasmMatchesCpu,
  BLAS_AVAILABLE,
  randn,
  useWasmPath,
} from "./test_util.ts";

tf.enableProdMode();

for (const c of [...CONV_CASES, ...FEW_OUTPUT_CHANNEL_CASES]) {
  Deno.test(`Conv2D and FusedConv2D (bias, linear) wasm = cpu: ${c.name}`, async () => {
    await assertWasmMatchesCpu(() => {
      const x = randn(c.x, 1) as tf.Tensor4D;
      const filter = randn(c.filter, 2) as tf.Tensor4D;
      const bias = randn([c.filter[3]], 3) as tf.Tensor1D;
      return [
        tf.conv2d(x, filter, c.strides, c.pad),
        tf.fused.conv2d({ x, filter, strides: c.strides, pad: c.pad, bias }),
      ];
    }, c.name);
  });
}

Deno.test("FusedConv2D: other activations and dilation still agree (fallback)", async () => {
  await assertWasmMatchesCpu(() => {
    const x = randn([2, 9, 8, 3], 1) as tf.Tensor4D;
    const filter = randn([3, 3, 3, 4], 2) as tf.Tensor4D;
    return [
      tf.fused.conv2d({
        x,
        filter,
        strides: 1,
        pad: "same",
        bias: randn([4], 3),
        activation: "relu",
      }),
      tf.fused.conv2d({
        x,
        filter,
        strides: 2,
        pad: "valid",
        bias: randn([4], 5),
      }),
      tf.conv2d(x, filter, 1, "same", "NHWC", 2),
    ];
  }, "fallbacks");
});

Deno.test("fused conv2d gradients through tf.grads: wasm = cpu", async () => {
  for (const c of CONV_CASES.slice(0, 5)) {
    await assertWasmMatchesCpu(() => {
      const x = randn(c.x, 1) as tf.Tensor4D;
      const filter = randn(c.filter, 2) as tf.Tensor4D;
      const bias = randn([c.filter[3]], 3) as tf.Tensor1D;
      const w = randn(tf.conv2d(x, filter, c.strides, c.pad).shape, 4);
      return tf.grads((a: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(
          tf.fused.conv2d({
            x: a as tf.Tensor4D,
            filter: f as tf.Tensor4D,
            strides: c.strides,
            pad: c.pad,
            bias: b,
          }),
          w,
        ))
      )([x, filter, bias]);
    }, `fused grads ${c.name}`);
  }
});

Deno.test({
  name: "BLAS path: the forward conv frees its intermediates",
  ignore: !BLAS_AVAILABLE,
  fn: async () => {
    await tf.setBackend("wasm");
    useWasmPath("blas");
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = randn([2, 9, 7, 3], 1) as tf.Tensor4D;
    const filter = randn([4, 4, 3, 5], 2) as tf.Tensor4D;
    const before = backend.numDataIds();
    const y = tf.conv2d(x, filter, 2, "same");
    assert.equal(
      backend.numDataIds(),
      before + 1,
      "only the output stays allocated",
    );
    tf.dispose([x, filter, y]);
  },
});

Deno.test("BatchMatMul wasm = cpu (transposes, broadcast batch)", async () => {
  await assertWasmMatchesCpu(() => {
    const a = randn([3, 5, 7], 1);
    const b = randn([3, 7, 4], 2);
    const b1 = randn([1, 4, 7], 3);
    return [
      tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
      tf.matMul(a as tf.Tensor3D, b1 as tf.Tensor3D, false, true),
      tf.matMul(
        randn([7, 5], 4) as tf.Tensor2D,
        randn([7, 6], 5) as tf.Tensor2D,
        true,
        false,
      ),
      tf.matMul(
        randn([2, 3, 6, 5], 6) as tf.Tensor4D,
        randn([2, 3, 4, 6], 7) as tf.Tensor4D,
        true,
        true,
      ),
    ];
  }, "matMul");
});
