/**
 * Runs code inside a gradient function as if no gradient were being
 * recorded around it: the tfjs engine's tape (its private `activeTape` and
 * `gradientDepth`, known only to this file) is set aside and put back.
 *
 * The training step runs D's whole phase (forward, gradients, update) inside
 * G's `variableGrads`; without this, G's tape records D's backward pass and
 * update too, and keeps a copy of every tensor those kernels save, although
 * none of it leads to G's loss.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The engine's tape state this file touches. */
interface TapeState {
  activeTape: unknown[] | null;
  gradientDepth: number;
}

/**
 * `f()` with the engine's gradient tape set aside: nothing `f` runs is
 * recorded by enclosing `tf.grad`/`tf.variableGrads` calls, and gradients
 * `f` computes itself behave as at the top level. Tensors `f` returns are
 * constants to an enclosing gradient.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { untaped } from "./untaped.ts";
 *
 * const x = tf.scalar(3);
 * const dx = tf.grad((x: tf.Tensor) =>
 *   tf.add(tf.square(x), untaped(() => tf.square(x)))
 * )(x);
 * console.log(dx.dataSync()[0]); // 6: the untaped term counts as a constant
 * ```
 */
export function untaped<T>(f: () => T): T {
  const state = tf.engine().state as unknown as TapeState;
  const tape = state.activeTape;
  const depth = state.gradientDepth;
  state.activeTape = null;
  state.gradientDepth = 0;
  try {
    return f();
  } finally {
    state.activeTape = tape;
    state.gradientDepth = depth;
  }
}
