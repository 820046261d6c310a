/**
 * tfjs-layers' `BatchNormalization` with a fused training branch: in
 * training mode (and in pix2pix's paper-mode inference, which uses batch
 * statistics too) it normalises with {@linkcode batchNormTrain}, one kernel
 * forwards (moving-average updates included) and one backwards where the
 * backend has p2p's, instead of the dozens of small ops of `tf.moments` +
 * `tf.batchNorm`, their gradients and the moving averages. The moving mean
 * and variance are updated with tfjs-layers' formula and float32 rounding.
 * Everything else (inference with the moving statistics, weights,
 * serialisation) is tfjs-layers' own: the class is registered under tfjs's
 * `BatchNormalization` name, so saved models still say `BatchNormalization`
 * and load in stock tfjs, and loading one here builds this class.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { batchNormTrain } from "./batch_norm_train.ts";
import type { Layer, Serializable, Tensor } from "./types.ts";

/** Options of {@linkcode BatchNormalization} (those of tfjs-layers' `BatchNormalization` that p2p uses). */
export interface BatchNormalizationOptions {
  /** The channel axis. @default -1 */
  axis?: number;
  /** Weight of the old value in the moving averages. @default 0.99 */
  momentum?: number;
  /** Added to the variance before the square root. @default 1e-3 */
  epsilon?: number;
  /** Initialiser of γ (a tfjs initializer such as `tf.initializers.randomNormal(…)`). @default "ones" */
  gammaInitializer?: Serializable | "ones" | "zeros";
  /** Initialiser of β (a tfjs initializer). @default "zeros" */
  betaInitializer?: Serializable | "ones" | "zeros";
  /** Layer name. @default generated */
  name?: string;
}

/** The constructor of tfjs-layers' `BatchNormalization` class. */
export type BatchNormalizationClass = new (
  options?: BatchNormalizationOptions,
) => Layer;

/** tfjs-layers' own `BatchNormalization` class (tfjs does not export it by name). */
export const TfjsBatchNormalization: BatchNormalizationClass = Object
  .getPrototypeOf(tf.layers.batchNormalization({})).constructor;

/** The private state of tfjs-layers' `BatchNormalization` the training branch reads. */
interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: LayerVariable | null;
  beta?: LayerVariable | null;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

/** A tfjs-layers `LayerVariable`, as far as it is used here. */
interface LayerVariable {
  read(): tf.Tensor;
  write(value: tf.Tensor): unknown;
}

/**
 * tfjs-layers' `BatchNormalization` whose training branch (channels last,
 * with γ and β) runs {@linkcode batchNormTrain}; any other configuration
 * falls back to tfjs-layers' own call. Serialises as `BatchNormalization`.
 */
export class BatchNormalization extends TfjsBatchNormalization {
  /** Name used by tfjs serialization (tfjs-layers' own). */
  static className = "BatchNormalization";

  /** Normalises `inputs`: batch statistics when `kwargs.training`, else the moving ones. */
  override call(
    inputs: Tensor | Tensor[],
    kwargs: Record<string, unknown>,
  ): Tensor | Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const s = this as unknown as BatchNormInternals;
    const last = s.axis === -1 || s.axis === x.rank - 1;
    if (
      kwargs?.training !== true || !last || x.rank < 2 ||
      x.dtype !== "float32" || s.gamma == null || s.beta == null ||
      (Array.isArray(inputs) && inputs.length !== 1)
    ) {
      return super.call(inputs, kwargs);
    }
    const gamma = s.gamma;
    const beta = s.beta;
    return tf.tidy(() => {
      const { y, movingMean, movingVariance } = batchNormTrain(
        x,
        gamma.read(),
        beta.read(),
        {
          epsilon: s.epsilon,
          moving: {
            mean: s.movingMean.read(),
            variance: s.movingVariance.read(),
            momentum: s.momentum,
          },
        },
      );
      s.movingMean.write(movingMean!);
      s.movingVariance.write(movingVariance!);
      return y;
    });
  }
}
tf.serialization.registerClass(
  BatchNormalization as unknown as tf.serialization.SerializableConstructor<
    tf.serialization.Serializable
  >,
);

/** Creates a {@linkcode BatchNormalization} layer. */
export function batchNormalization(
  options: BatchNormalizationOptions = {},
): Layer {
  return new BatchNormalization(options);
}
