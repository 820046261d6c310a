// A forward and backward pass through G and D leaves no tensor behind.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "@p2p/backend";
import { patchDiscriminator, unet } from "@p2p/models";

Deno.test("forward + backward leaves tf.memory().numTensors unchanged", async () => {
  await selectBackend({ backend: "cpu", log: null });
  const g = unet({ depth: 5, ngf: 4, size: 32 });
  const d = patchDiscriminator({ ndf: 4, size: 32 });
  const x = tf.randomUniform([1, 32, 32, 3], -1, 1);
  const y = tf.randomUniform([1, 32, 32, 3], -1, 1);
  const opt = tf.train.adam(2e-4, 0.5, 0.999);
  const pass = () => {
    const vars = [...g.trainableWeights, ...d.trainableWeights].map((w) =>
      (w as unknown as { val: tf.Variable }).val
    );
    const { value, grads } = tf.variableGrads(() => {
      const fake = g.apply(x, { training: true }) as tf.Tensor;
      const logits = d.apply([x, fake], { training: true }) as tf.Tensor;
      return tf.add(
        tf.losses.sigmoidCrossEntropy(tf.onesLike(logits), logits),
        tf.mul(100, tf.losses.absoluteDifference(y, fake)),
      ) as tf.Scalar;
    }, vars);
    opt.applyGradients(
      grads as tf.NamedTensorMap as Record<string, tf.Variable>,
    );
    tf.dispose([value, ...Object.values(grads)]);
  };
  pass(); // the optimizer creates its slots on the first step
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) pass();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  opt.dispose();
  g.dispose();
  d.dispose();
});
