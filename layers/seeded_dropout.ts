/**
 * Dropout whose masks come from a seeded, checkpointable counter instead of
 * `Math.random`, so that a training run resumed from a checkpoint draws the
 * same masks as an uninterrupted one.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { ConfigDict, Layer, Tensor } from "./types.ts";

let dropoutCounter = 0;
let dropoutBase = 0;

/** The state of the dropout mask generator, as stored in checkpoints. */
export interface DropoutState {
  /** Base seed. */
  base: number;
  /** Number of masks drawn so far. */
  counter: number;
}

/** Restarts the dropout mask generator at `seed`. */
export function setDropoutSeed(seed: number): void {
  dropoutBase = Math.trunc(seed);
  dropoutCounter = 0;
}

/** The current state of the dropout mask generator. */
export function getDropoutState(): DropoutState {
  return { base: dropoutBase, counter: dropoutCounter };
}

/** Restores a state returned by {@linkcode getDropoutState}. */
export function setDropoutState(state: DropoutState): void {
  if (!Number.isInteger(state?.base) || !Number.isInteger(state?.counter)) {
    throw new TypeError(
      `dropout state must be {base, counter} integers, received ${
        JSON.stringify(state)
      }`,
    );
  }
  dropoutBase = state.base;
  dropoutCounter = state.counter;
}

/** Options of {@linkcode SeededDropout}. */
export interface SeededDropoutOptions {
  /** Fraction of units dropped. @default 0.5 */
  rate?: number;
  /** Layer name. @default generated */
  name?: string;
}

/**
 * Inverted dropout, active only when called with `training: true`. Exported
 * to plain tfjs it is an ordinary `Dropout` layer (same config keys).
 */
export class SeededDropout extends tf.layers.Layer {
  /** Name used by tfjs serialization. */
  static className = "SeededDropout";
  /** Fraction of units dropped. */
  readonly rate: number;

  /** Creates the layer. */
  constructor(options: SeededDropoutOptions = {}) {
    super({ name: options.name });
    this.rate = options.rate ?? 0.5;
    if (!(this.rate >= 0 && this.rate < 1)) {
      throw new RangeError(
        `dropout rate must be in [0, 1), received ${this.rate}`,
      );
    }
  }

  /** Drops units when `kwargs.training` is true; identity otherwise. */
  override call(
    inputs: Tensor | Tensor[],
    kwargs: ConfigDict,
  ): Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs?.training || this.rate === 0) return tf.clone(x);
    const seed = dropoutBase * 7919 + ++dropoutCounter;
    return tf.tidy(() => {
      const keep = tf.less(
        tf.randomUniform(x.shape, 0, 1, "float32", seed),
        1 - this.rate,
      );
      return tf.mul(x, tf.mul(tf.cast(keep, "float32"), 1 / (1 - this.rate)));
    });
  }

  /** Serializable configuration. */
  override getConfig(): ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(SeededDropout);

/** Creates a {@linkcode SeededDropout} layer. */
export function seededDropout(options: SeededDropoutOptions = {}): Layer {
  return new SeededDropout(options);
}
