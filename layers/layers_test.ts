import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  conv,
  convTranspose,
  decoderBlock,
  encoderBlock,
  getDropoutState,
  setDropoutSeed,
  setDropoutState,
} from "./mod.ts";
import { InstanceNormalization } from "./instance_norm.ts";
import { ReflectionPadding2D } from "./reflection_padding.ts";
import { SeededDropout } from "./seeded_dropout.ts";

tf.enableProdMode();
await tf.setBackend("cpu");

function close(a: tf.Tensor, b: tf.Tensor, tol = 1e-5): void {
  const d = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  assert.ok(d <= tol, `max difference ${d} > ${tol}`);
}

Deno.test("conv: padding 1 with stride 1 is explicit zero padding (not 'same')", () => {
  const x = tf.input({ shape: [7, 5, 2] });
  const y = conv(x, {
    filters: 3,
    kernelSize: 4,
    strides: 1,
    padding: 1,
    name: "c",
  });
  assert.deepEqual(y.shape, [null, 6, 4, 3]); // (7 + 2 - 4) + 1, (5 + 2 - 4) + 1
  const m = tf.model({ inputs: x, outputs: y });
  const input = tf.randomNormal([2, 7, 5, 2]);
  const [k, b] = m.getLayer("c").getWeights();
  const manual = tf.add(
    tf.conv2d(
      tf.pad(input, [[0, 0], [1, 1], [1, 1], [0, 0]]) as tf.Tensor4D,
      k as tf.Tensor4D,
      1,
      "valid",
    ),
    b,
  );
  close(m.predict(input) as tf.Tensor, manual);
});

Deno.test("conv: 4×4 stride-2 padding 1 equals explicit padding on even sizes", () => {
  const x = tf.input({ shape: [8, 6, 2] });
  const m = tf.model({
    inputs: x,
    outputs: conv(x, { filters: 2, name: "c" }),
  });
  const input = tf.randomNormal([1, 8, 6, 2]);
  const [k, b] = m.getLayer("c").getWeights();
  const manual = tf.add(
    tf.conv2d(
      tf.pad(input, [[0, 0], [1, 1], [1, 1], [0, 0]]) as tf.Tensor4D,
      k as tf.Tensor4D,
      2,
      "valid",
    ),
    b,
  );
  close(m.predict(input) as tf.Tensor, manual);
});

Deno.test("convTranspose: PyTorch output size (in-1)·s - 2p + k + op", () => {
  const x = tf.input({ shape: [5, 4, 3] });
  assert.deepEqual(convTranspose(x, { filters: 2 }).shape, [null, 10, 8, 2]);
  assert.deepEqual(
    convTranspose(x, {
      filters: 2,
      kernelSize: 3,
      strides: 2,
      padding: 1,
      outputPadding: 1,
    }).shape,
    [
      null,
      10,
      8,
      2,
    ],
  );
  assert.throws(
    () => convTranspose(x, { filters: 0 }),
    /filters must be a positive integer, received 0/,
  );
});

Deno.test("convTranspose k3 s2 p1 op1 is the adjoint of conv k3 s2 p1 (PyTorch alignment)", () => {
  // <convT(y), x> == <y, conv(x)> for the same kernel.
  const xi = tf.input({ shape: [4, 4, 2] });
  const t = tf.model({
    inputs: xi,
    outputs: convTranspose(xi, {
      filters: 3,
      kernelSize: 3,
      strides: 2,
      padding: 1,
      outputPadding: 1,
      bias: false,
      name: "t",
    }),
  });
  const k = t.getLayer("t").getWeights()[0] as tf.Tensor4D; // [kh, kw, out=3, in=2]
  const y = tf.randomNormal([1, 4, 4, 2]);
  const x = tf.randomNormal([1, 8, 8, 3]);
  const ty = t.predict(y) as tf.Tensor;
  const cx = tf.conv2d(
    tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]) as tf.Tensor4D,
    k,
    2,
    "valid",
  );
  const lhs = tf.sum(tf.mul(ty, x)).dataSync()[0];
  const rhs = tf.sum(tf.mul(y, cx)).dataSync()[0];
  assert.ok(Math.abs(lhs - rhs) < 1e-3, `${lhs} vs ${rhs}`);
});

Deno.test("encoderBlock / decoderBlock: shapes, bias rule and names", () => {
  const x = tf.input({ shape: [16, 16, 3] });
  const e = encoderBlock(x, { filters: 8, name: "e" });
  const d = decoderBlock(e, { filters: 3, skip: x, dropout: 0.5, name: "d" });
  assert.deepEqual(e.shape, [null, 8, 8, 8]);
  assert.deepEqual(d.shape, [null, 16, 16, 6]);
  const m = tf.model({ inputs: x, outputs: d });
  assert.equal(
    m.getLayer("e_conv").getWeights().length,
    1,
    "no bias before BatchNorm",
  );
  const x2 = tf.input({ shape: [16, 16, 3] });
  const e2 = encoderBlock(x2, { filters: 8, norm: "instance", name: "f" });
  const m2 = tf.model({ inputs: x2, outputs: e2 });
  assert.equal(
    m2.getLayer("f_conv").getWeights().length,
    2,
    "bias with instance norm",
  );
  assert.equal(m.getLayer("e_norm").getClassName(), "BatchNormalization");
  const bn = m.getLayer("e_norm").getConfig();
  assert.equal(bn.epsilon, 1e-5);
  assert.equal(bn.momentum, 0.9);
});

Deno.test("InstanceNormalization normalises each sample and channel over H×W", () => {
  const x = tf.randomNormal([2, 5, 6, 3], 3, 2);
  const y = new InstanceNormalization().apply(x) as tf.Tensor;
  const { mean, variance } = tf.moments(y, [1, 2]);
  close(mean, tf.zeros([2, 3]), 1e-5);
  close(variance, tf.ones([2, 3]), 1e-3);
});

Deno.test("ReflectionPadding2D reflects without repeating the edge", () => {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const y = new ReflectionPadding2D({ padding: 1 }).apply(x) as tf.Tensor;
  assert.deepEqual(Array.from(y.dataSync()).slice(0, 5), [5, 4, 5, 6, 5]);
  assert.throws(
    () => new ReflectionPadding2D({ padding: -1 }),
    /non-negative integer, received -1/,
  );
});

Deno.test("SeededDropout: identity in inference, reproducible masks from a restored state", () => {
  const layer = new SeededDropout({ rate: 0.5 });
  const x = tf.ones([1, 8, 8, 4]);
  close(layer.apply(x, { training: false }) as tf.Tensor, x, 0);
  setDropoutSeed(42);
  const a = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
  const state = getDropoutState();
  const b = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
  setDropoutState(state);
  const c = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
  assert.deepEqual(b, c, "same state, same mask");
  assert.notDeepEqual(a, b, "successive masks differ");
  const kept = Array.from(a).filter((v) => v !== 0);
  assert.ok(kept.every((v) => v === 2), "inverted scaling 1/(1-rate)");
  assert.ok(
    kept.length > 64 && kept.length < 192,
    `about half kept, got ${kept.length}/256`,
  );
  assert.throws(
    () => new SeededDropout({ rate: 1 }),
    /rate must be in \[0, 1\), received 1/,
  );
});

Deno.test("conv: under a gradient, same values as fused, and no unneeded dW / dx", async () => {
  const x = tf.input({ shape: [8, 8, 3] });
  const h = conv(x, { filters: 4, seed: 1, name: "lazy_c1" });
  const y = conv(h, { filters: 2, seed: 2, name: "lazy_c2" });
  const model = tf.model({ inputs: x, outputs: y });
  const [, b1, , b2] = model.weights.map((w) => w.read() as tf.Variable);
  b1.assign(tf.randomNormal(b1.shape, 0, 1, "float32", 3));
  b2.assign(tf.randomNormal(b2.shape, 0, 1, "float32", 4));
  const input = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 5);
  const fused = model.predict(input) as tf.Tensor;
  let recorded: tf.Tensor | null = null;
  const first = model.getLayer("lazy_c1").trainableWeights.map((w) =>
    w.read() as tf.Variable
  );
  const kernels: string[] = [];
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(input, { training: true }) as tf.Tensor;
      recorded = tf.keep(out.clone());
      return tf.sum(out) as tf.Scalar;
    }, first);
    tf.dispose([value, ...Object.values(grads)]);
  });
  for (const k of info.kernels) kernels.push(k.name);
  // Bit-identical forward.
  assert.deepEqual(recorded!.dataSync(), fused.dataSync());
  // Only the first layer's dW; the frozen second layer's dW and the input's dx are not computed.
  assert.equal(kernels.filter((k) => k === "Conv2DBackpropFilter").length, 1);
  assert.equal(kernels.filter((k) => k === "Conv2DBackpropInput").length, 1);
  assert.equal(kernels.filter((k) => k === "FusedConv2D").length, 2);
  // The gradients equal tf.fused.conv2d's.
  const [k1, bias1, k2, bias2] = model.weights.map((w) => w.read());
  const ref = tf.variableGrads(() => {
    const a = tf.fused.conv2d({
      x: input as tf.Tensor4D,
      filter: k1 as tf.Tensor4D,
      strides: 2,
      pad: "same",
      bias: bias1,
    });
    const o = tf.fused.conv2d({
      x: a,
      filter: k2 as tf.Tensor4D,
      strides: 2,
      pad: "same",
      bias: bias2,
    });
    return tf.sum(o) as tf.Scalar;
  }, first);
  const got = tf.variableGrads(
    () => tf.sum(model.apply(input) as tf.Tensor) as tf.Scalar,
    first,
  );
  for (const name of Object.keys(ref.grads)) {
    assert.deepEqual(got.grads[name].dataSync(), ref.grads[name].dataSync());
  }
  tf.dispose([recorded!, fused, input, ref.value, got.value]);
});
