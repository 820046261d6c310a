/**
 * Adam with one fused update kernel per variable on the wasm backend.
 *
 * `tf.train.adam` updates each variable with 13 separate element-wise
 * kernels, each writing a full-size tensor: for pix2pix's 57 M parameters that
 * is a large share of a wasm training step. The optimizer
 * {@linkcode fusedAdam} makes computes the same update (same formula, same
 * state variables, same `getWeights` / `setWeights`, so checkpoints are
 * interchangeable) in a single pass over the wasm heap through the
 * `P2pAdamUpdate` kernel; on other backends, or before that kernel is
 * registered, it is `tf.train.adam`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ADAM_UPDATE } from "./wasm/adam_update.ts";

export {
  ADAM_UPDATE,
  adamSimdAvailable,
  adamUpdateWasm,
  setAdamSimd,
} from "./wasm/adam_update.ts";

type GradientsArg = Parameters<tf.AdamOptimizer["applyGradients"]>[0];

/** Internals of tfjs's AdamOptimizer this subclass works with. */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

/** tfjs's Adam optimizer (an alias of `tf.AdamOptimizer`). */
export type AdamOptimizer = tf.AdamOptimizer;

/**
 * `tf.train.adam` whose update is one fused kernel per variable on wasm.
 * Same constructor, state and serialisation as `tf.AdamOptimizer`.
 */
class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** Applies one Adam step (fused on wasm when `P2pAdamUpdate` is registered). */
  override applyGradients(variableGradients: GradientsArg): void {
    const fused = tf.getBackend() === "wasm" &&
      tf.getKernel(ADAM_UPDATE, "wasm") != null;
    if (!fused) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as AdamState;
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const c1 = 1 - self.accBeta1.dataSync()[0];
    const c2 = 1 - self.accBeta2.dataSync()[0];
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      if (self.accumulatedFirstMoment[i] == null) {
        self.accumulatedFirstMoment[i] = {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      if (self.accumulatedSecondMoment[i] == null) {
        self.accumulatedSecondMoment[i] = {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      const grad = Array.isArray(variableGradients)
        ? variableGradients[i].tensor
        : variableGradients[name];
      if (grad == null) return;
      const m = self.accumulatedFirstMoment[i].variable;
      const v = self.accumulatedSecondMoment[i].variable;
      const [p1, m1, v1] = tf.engine().runKernel(
        ADAM_UPDATE,
        { value, m, v, grad },
        {
          lr: self.learningRate,
          beta1: self.beta1,
          beta2: self.beta2,
          epsilon: self.epsilon,
          c1,
          c2,
        },
      ) as tf.Tensor[];
      m.assign(m1);
      v.assign(v1);
      value.assign(p1);
      tf.dispose([p1, m1, v1]);
    });
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  }
}

/**
 * Creates an Adam optimizer whose update is one fused kernel per variable on
 * the wasm backend (with p2p's wasm kernels registered) and exactly
 * `tf.train.adam` elsewhere. Arguments as `tf.train.adam` (`epsilon`
 * defaults to the backend's, as there); the state, `getWeights` and
 * `setWeights` are tfjs's, so checkpoints are interchangeable.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { fusedAdam } from "./fused_adam.ts";
 *
 * const w = tf.variable(tf.ones([2]));
 * const opt = fusedAdam(0.1, 0.5, 0.999, 1e-8);
 * opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
 * console.log(w.dataSync()[0] < 1); // true
 * ```
 */
export function fusedAdam(
  learningRate = 0.001,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): AdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
