/**
 * Dropout whose masks come from a seeded, checkpointable counter instead of
 * `Math.random`, so that a training run resumed from a checkpoint draws the
 * same masks as an uninterrupted one.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { ConfigDict, Layer, Tensor } from "./types.ts";

/** The state of a dropout mask stream, as stored in checkpoints. */
export interface DropoutState {
  /** Base seed. */
  base: number;
  /** Number of masks drawn so far. */
  counter: number;
}

/**
 * A seeded, checkpointable source of dropout masks: mask `k` of a stream with
 * base seed `b` is drawn with seed `b · 7919 + k`. A trainer owns one and
 * attaches it to its generator ({@linkcode attachDropoutStream}); models
 * without one draw from a shared default stream.
 *
 * @example
 * ```ts
 * import { DropoutStream } from "@p2p/layers";
 * const s = new DropoutStream(3);
 * s.nextSeed();
 * console.log(s.state()); // { base: 3, counter: 1 }
 * ```
 */
export class DropoutStream {
  /** Base seed. */
  base: number;
  /** Masks drawn so far. */
  counter: number;

  /** A stream at `seed` (or at a saved {@linkcode DropoutState}). */
  constructor(seed: number | DropoutState = 0) {
    if (typeof seed === "number") {
      this.base = Math.trunc(seed);
      this.counter = 0;
    } else {
      checkDropoutState(seed);
      this.base = seed.base;
      this.counter = seed.counter;
    }
  }

  /** The seed of the next mask (advances the stream). */
  nextSeed(): number {
    return this.base * 7919 + ++this.counter;
  }

  /** The state to checkpoint. */
  state(): DropoutState {
    return { base: this.base, counter: this.counter };
  }

  /** Continues from a state returned by {@linkcode DropoutStream.state}. */
  restore(state: DropoutState): void {
    checkDropoutState(state);
    this.base = state.base;
    this.counter = state.counter;
  }
}

function checkDropoutState(state: DropoutState): void {
  if (!Number.isInteger(state?.base) || !Number.isInteger(state?.counter)) {
    throw new TypeError(
      `dropout state must be {base, counter} integers, received ${
        JSON.stringify(state)
      }`,
    );
  }
}

const defaultStream = new DropoutStream(0);

/** Restarts the default dropout stream (models with no stream attached) at `seed`. */
export function setDropoutSeed(seed: number): void {
  defaultStream.base = Math.trunc(seed);
  defaultStream.counter = 0;
}

/** The state of the default dropout stream. */
export function getDropoutState(): DropoutState {
  return defaultStream.state();
}

/** Restores a state of the default stream returned by {@linkcode getDropoutState}. */
export function setDropoutState(state: DropoutState): void {
  checkDropoutState(state);
  defaultStream.base = state.base;
  defaultStream.counter = state.counter;
}

/** The stream the dropout layers of `model` draw from (the default one when none is attached). */
export function dropoutStreamOf(model: { layers: unknown[] }): DropoutStream {
  for (const layer of model.layers) {
    if (layer instanceof SeededDropout && layer.stream) return layer.stream;
  }
  return defaultStream;
}

/**
 * Makes every {@linkcode SeededDropout} layer of `model` draw its masks from
 * `stream` (`null`: the default stream again).
 */
export function attachDropoutStream(
  model: { layers: unknown[] },
  stream: DropoutStream | null,
): void {
  for (const layer of model.layers) {
    if (layer instanceof SeededDropout) layer.stream = stream;
  }
}

/**
 * Name of the fused kernel (wasm, after `registerFastWasmKernels` in
 * `@p2p/backend`): input `x`, attrs `seed` and `rate`; the output of
 * {@linkcode SeededDropout}'s tf ops, bit for bit, in one pass.
 */
export const DROPOUT_KERNEL = "P2pDropout";

/** Whether the current backend has {@linkcode DROPOUT_KERNEL}. */
function dropoutFused(): boolean {
  return tf.getKernel(DROPOUT_KERNEL, tf.getBackend()) != null;
}

let gradientRegistered = false;

/**
 * Registers (once) the gradient of {@linkcode DROPOUT_KERNEL}: dropout is
 * x times a mask fixed by the seed, so its gradient is the same kernel on
 * dy (the mask is drawn again from the seed, not kept).
 */
function registerDropoutGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: DROPOUT_KERNEL,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], _saved, attrs) => ({
      x: () =>
        tf.engine().runKernel(
          DROPOUT_KERNEL,
          { x: dy as tf.Tensor },
          attrs,
        ) as tf.Tensor,
    }),
  });
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
  /** The mask stream (`null`: the default stream). */
  stream: DropoutStream | null = null;

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
    const seed = (this.stream ?? defaultStream).nextSeed();
    if (x.dtype === "float32" && dropoutFused()) {
      registerDropoutGradient();
      return tf.engine().runKernel(
        DROPOUT_KERNEL,
        { x },
        { seed, rate: this.rate },
      ) as Tensor;
    }
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
