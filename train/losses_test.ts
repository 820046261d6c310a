import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  bceOnProbabilities,
  bceWithLogits,
  ganLoss,
  gradientPenalty,
  l1Loss,
  PROBABILITY_EPSILON,
} from "./mod.ts";

tf.enableProdMode();
await tf.setBackend("cpu");

const value = (t: tf.Tensor): number => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};
const close = (a: number, b: number, tol = 1e-5, what = "") =>
  assert.ok(
    Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)),
    `${what} ${a} vs ${b}`,
  );

const softplus = (x: number) => Math.log1p(Math.exp(x));

Deno.test("bceWithLogits: hand-computed values, stable at large logits", () => {
  const xs = [-2, 0, 0.5, 3];
  const x = tf.tensor(xs);
  // BCE(σ(x), 1) = softplus(−x); BCE(σ(x), 0) = softplus(x).
  close(
    value(bceWithLogits(x, 1)),
    xs.reduce((s, v) => s + softplus(-v), 0) / 4,
  );
  close(
    value(bceWithLogits(x, 0)),
    xs.reduce((s, v) => s + softplus(v), 0) / 4,
  );
  const big = tf.tensor([100, -100]);
  close(value(bceWithLogits(big, 1)), 50, 1e-6, "large logits, real");
  close(value(bceWithLogits(big, 0)), 50, 1e-6, "large logits, fake");
  tf.dispose([x, big]);
});

Deno.test("bceOnProbabilities: hand-computed values, clipped at 0 and 1", () => {
  const ps = [0.1, 0.5, 0.9];
  const p = tf.tensor(ps);
  close(
    value(bceOnProbabilities(p, 1)),
    -ps.reduce((s, v) => s + Math.log(v), 0) / 3,
  );
  close(
    value(bceOnProbabilities(p, 0)),
    -ps.reduce((s, v) => s + Math.log(1 - v), 0) / 3,
  );
  const edge = tf.tensor([0, 1]);
  const expected = (-Math.log(PROBABILITY_EPSILON) - Math.log(1 - 1e-7)) / 2;
  close(value(bceOnProbabilities(edge, 1)), expected, 1e-3, "clipped");
  // Gradient is finite at the edges too.
  const g = tf.grad((q: tf.Tensor) => bceOnProbabilities(q, 1))(edge);
  assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  tf.dispose([p, edge, g]);
});

Deno.test("ganLoss: vanilla / lsgan / wgangp on logits, sigmoid and softmax outputs", () => {
  const xs = [2, -1];
  const x = tf.tensor(xs);
  close(
    value(ganLoss(x, true)),
    (softplus(-2) + softplus(1)) / 2,
    1e-5,
    "vanilla",
  );
  close(
    value(ganLoss(x, true, { mode: "lsgan" })),
    ((2 - 1) ** 2 + (-1 - 1) ** 2) / 2,
  );
  close(value(ganLoss(x, false, { mode: "lsgan" })), (4 + 1) / 2);
  close(value(ganLoss(x, true, { mode: "wgangp" })), -0.5);
  close(value(ganLoss(x, false, { mode: "wgangp" })), 0.5);
  const p = tf.tensor([0.8, 0.3]);
  close(
    value(ganLoss(p, false, { output: "sigmoid" })),
    -(Math.log(0.2) + Math.log(0.7)) / 2,
  );
  close(
    value(ganLoss(p, true, { mode: "lsgan", output: "sigmoid" })),
    (0.04 + 0.49) / 2,
  );
  // softmax [b, 2], column 1 = real.
  const s = tf.tensor2d([[0.25, 0.75], [0.6, 0.4]]);
  close(
    value(ganLoss(s, true, { output: "softmax" })),
    -(Math.log(0.75) + Math.log(0.4)) / 2,
  );
  close(
    value(ganLoss(s, false, { output: "softmax" })),
    -(Math.log(0.25) + Math.log(0.6)) / 2,
  );
  assert.throws(
    () => ganLoss(p, true, { mode: "wgangp", output: "sigmoid" }),
    /wgangp.*logits/,
  );
  assert.throws(
    () => ganLoss(x, true, { mode: "hinge" as "lsgan" }),
    /ganLoss mode/,
  );
  tf.dispose([x, p, s]);
});

Deno.test("l1Loss: mean absolute difference; shape mismatch named", () => {
  const a = tf.tensor([1, -1, 0.5, 2]);
  const b = tf.tensor([0, 1, 0.5, -1]);
  close(value(l1Loss(a, b)), (1 + 2 + 0 + 3) / 4);
  assert.throws(
    () => l1Loss(a, tf.zeros([3])),
    /shapes differ: \[4\] vs \[3\]/,
  );
  tf.dispose([a, b]);
});

Deno.test("gradientPenalty: λ·(‖∇D‖ − 1)² for a linear D with a known gradient", () => {
  // D(s, t) = Σ_pixels w · [s, t] (a 1×1 convolution without bias): its gradient
  // with respect to every input pixel is w, whatever the mixing α.
  const w = [0.1, -0.2, 0.3, 0.05, 0.0, -0.4];
  const source = tf.input({ shape: [4, 4, 3] });
  const target = tf.input({ shape: [4, 4, 3] });
  const cat = tf.layers.concatenate().apply([
    source,
    target,
  ]) as tf.SymbolicTensor;
  const conv = tf.layers.conv2d({ filters: 1, kernelSize: 1, useBias: false });
  const model = tf.model({
    inputs: [source, target],
    outputs: conv.apply(cat) as tf.SymbolicTensor,
  });
  conv.setWeights([tf.tensor4d(w, [1, 1, 6, 1])]);
  const s = tf.randomUniform([2, 4, 4, 3], -1, 1);
  const real = tf.randomUniform([2, 4, 4, 3], -1, 1);
  const fake = tf.randomUniform([2, 4, 4, 3], -1, 1);
  const norm = Math.sqrt(16 * w.reduce((acc, v) => acc + (v + 1e-16) ** 2, 0));
  close(
    value(gradientPenalty(model, s, real, fake, { lambda: 10, seed: 3 })),
    10 * (norm - 1) ** 2,
    1e-4,
  );
  // Differentiable with respect to D's weights (a second-order gradient).
  const { grads, value: v } = tf.variableGrads(
    () => gradientPenalty(model, s, real, fake),
    model.trainableWeights.map((x) => x.read() as tf.Variable),
  );
  const gw = Object.values(grads)[0].dataSync();
  // d/dw of 10(‖16^{1/2} w‖ − 1)² = 10·2(n − 1)·16 w / n.
  w.forEach((wi, i) =>
    close(gw[i], 10 * 2 * (norm - 1) * 16 * wi / norm, 1e-3, `dGP/dw${i}`)
  );
  tf.dispose([s, real, fake, v, ...Object.values(grads)]);
  model.dispose();
});
