/**
 * The Adam update the `P2pAdamUpdate` tests check: attributes at a step,
 * seeded inputs, and tf.train.adam's formula in tf ops to compare with.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The attributes of `P2pAdamUpdate` (without `inPlace`). */
export type AdamAttrs = {
  /** Learning rate. */
  lr: number;
  /** β1. */
  beta1: number;
  /** β2. */
  beta2: number;
  /** ε. */
  epsilon: number;
  /** 1 − β1ᵗ. */
  c1: number;
  /** 1 − β2ᵗ. */
  c2: number;
};

/** The inputs of `P2pAdamUpdate`. */
export type AdamInputs = Record<"value" | "m" | "v" | "grad", tf.Tensor>;

/** The tests' attributes at step `t`: lr 2e-2, β1 0.5, β2 0.999, ε 1e-7. */
export function adamAttrs(t: number): AdamAttrs {
  return {
    lr: 2e-2,
    beta1: 0.5,
    beta2: 0.999,
    epsilon: 1e-7,
    c1: 1 - 0.5 ** t,
    c2: 1 - 0.999 ** t,
  };
}

/** Seeded normal inputs of `shape` (v ≥ 0). */
export function adamInputs(shape: number[]): AdamInputs {
  return {
    value: tf.randomNormal(shape, 0, 1, "float32", 1),
    m: tf.randomNormal(shape, 0, 1, "float32", 2),
    v: tf.abs(tf.randomNormal(shape, 0, 1, "float32", 3)),
    grad: tf.randomNormal(shape, 0, 1, "float32", 4),
  };
}

/** tf.train.adam's update in tf ops: the new value, m and v. */
export function adamReference(
  inputs: AdamInputs,
  attrs: AdamAttrs,
): tf.Tensor[] {
  const { value, m, v, grad } = inputs;
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
}
