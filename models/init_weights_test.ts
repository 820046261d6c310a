import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initializeWeights } from "./init_weights.ts";
import { patchDiscriminator, unet } from "./mod.ts";

await tf.setBackend("cpu");

function std(t: tf.Tensor): number {
  return tf.tidy(() => tf.moments(t).variance.sqrt().dataSync()[0]);
}

function weight(model: tf.LayersModel, name: string): tf.Tensor {
  return model.weights.find((w) => w.originalName === name)!.read();
}

Deno.test("initializeWeights: xavier, kaiming and normal draw kernels with the reference's std; biases 0, γ ~ N(1, gain)", () => {
  const d = patchDiscriminator({ ndf: 16, size: 64 });
  const kernel = d.weights.find((w) =>
    /kernel$/.test(w.originalName) &&
    (w.shape as number[])[3] === 32
  )!;
  const [kh, kw, a, b] = kernel.shape as number[];
  const expect = {
    normal: 0.05,
    xavier: 0.05 * Math.sqrt(2 / (a * kh * kw + b * kh * kw)),
    kaiming: Math.sqrt(2 / (a * kh * kw)),
  };
  for (const [type, s] of Object.entries(expect)) {
    initializeWeights(d, { type: type as "normal", gain: 0.05, seed: 3 });
    const got = std(kernel.read());
    assert.ok(Math.abs(got / s - 1) < 0.05, `${type}: std ${got} vs ${s}`);
  }
  for (const w of d.weights) {
    const v = Array.from(w.read().dataSync() as Float32Array);
    if (/\/(bias|beta)$/.test(w.originalName)) {
      assert.ok(v.every((x) => x === 0), w.originalName);
    }
    if (/\/gamma$/.test(w.originalName)) {
      const m = v.reduce((s, x) => s + x, 0) / v.length;
      assert.ok(Math.abs(m - 1) < 0.05, `${w.originalName} mean ${m}`);
    }
  }
  d.dispose();
});

Deno.test("initializeWeights: orthogonal kernels have orthogonal rows in PyTorch's layout, scaled by the gain", () => {
  const g = unet({ depth: 4, ngf: 4, size: 16 });
  initializeWeights(g, { type: "orthogonal", gain: 0.5, seed: 1 });
  const k = weight(g, "e2_conv/kernel"); // [4, 4, 4, 8]: 8 rows of 64
  tf.tidy(() => {
    const rows = tf.reshape(tf.transpose(k, [3, 2, 0, 1]), [8, 64]);
    const gram = tf.matMul(rows, rows, false, true);
    const want = tf.mul(tf.eye(8), 0.25);
    const err = tf.max(tf.abs(tf.sub(gram, want))).dataSync()[0];
    assert.ok(err < 1e-5, `W·Wᵀ − gain²·I: ${err}`);
  });
  assert.throws(
    () => initializeWeights(g, { type: "uniform" as "normal" }),
    /init type must be one of normal, xavier, kaiming, orthogonal, received "uniform"/,
  );
  g.dispose();
});
