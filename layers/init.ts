/**
 * Weight initialisers of the pix2pix reference (`init_type: normal`,
 * `init_gain: 0.02`), seeded so that a model built twice is the same model.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A tfjs initializer, as the layers factories take it. */
/** The tfjs initializer returned by `tf.initializers.randomNormal`. */
export type Initializer = ReturnType<typeof tf.initializers.randomNormal>;

/** A source of distinct integer seeds, one per layer weight. */
export type SeedSequence = () => number;

/**
 * Makes a deterministic sequence of seeds starting at `seed`.
 *
 * @example
 * ```ts
 * import { seedSequence } from "@p2p/layers";
 * const next = seedSequence(7);
 * next(); // 7_000_001
 * ```
 */
export function seedSequence(seed: number): SeedSequence {
  if (!Number.isFinite(seed)) {
    throw new RangeError(`seed must be a finite number, received ${seed}`);
  }
  let i = 0;
  return () => Math.trunc(seed) * 1_000_000 + ++i;
}

/** Convolution and transposed-convolution weights: N(0, 0.02). */
export function convInitializer(seed: number): Initializer {
  return tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed });
}

/** BatchNorm γ: N(1, 0.02). */
export function gammaInitializer(seed: number): Initializer {
  return tf.initializers.randomNormal({ mean: 1, stddev: 0.02, seed });
}
