import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { untaped } from "./untaped.ts";

Deno.test("untaped: an enclosing gradient treats the result as a constant and records none of it", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const w = tf.tidy(() =>
    tf.variable(tf.tensor1d([1, 2, 3]), true, "untaped_test_w")
  );
  const u = tf.tidy(() =>
    tf.variable(tf.tensor1d([4, 5, 6]), true, "untaped_test_u")
  );
  let inner: tf.Tensor | undefined;
  const tapeLengths: number[] = [];
  const tapeLength = () =>
    (tf.engine().state as unknown as { activeTape: unknown[] }).activeTape
      .length;
  const { value, grads } = tf.variableGrads(() => {
    const a = tf.mul(w, w);
    tapeLengths.push(tapeLength());
    // A whole gradient computation of its own, as at the top level.
    const c = untaped(() => {
      const g = tf.variableGrads(
        () => tf.sum(tf.mul(tf.mul(u, u), a)) as tf.Scalar,
        [u],
      );
      inner = tf.keep(g.grads[u.name]);
      return tf.sum(tf.mul(u, a));
    });
    tapeLengths.push(tapeLength());
    return tf.add(tf.sum(a), c) as tf.Scalar;
  }, [w]);
  // d/dw Σw² = 2w; c is a constant to the outer gradient.
  assert.deepEqual(Array.from(await grads[w.name].data()), [2, 4, 6]);
  // d/du Σu²a = 2ua, a = w².
  assert.deepEqual(Array.from(await inner!.data()), [8, 40, 108]);
  assert.equal(await value.data().then((v) => v[0]), 14 + 4 + 20 + 54);
  assert.ok(tapeLengths[0] > 0);
  assert.equal(
    tapeLengths[1],
    tapeLengths[0],
    "nothing of f on the outer tape",
  );
  tf.dispose([value, inner!, ...Object.values(grads), w, u]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("untaped: restores the tape when f throws", async () => {
  await tf.setBackend("cpu");
  const w = tf.tidy(() => tf.variable(tf.scalar(2), true, "untaped_test_t"));
  const { grads } = tf.variableGrads(() => {
    assert.throws(() =>
      untaped(() => {
        throw new Error("boom");
      }), /boom/);
    return tf.mul(w, w) as tf.Scalar;
  }, [w]);
  assert.equal((await grads[w.name].data())[0], 4);
  tf.dispose([...Object.values(grads), w]);
});
