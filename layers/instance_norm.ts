/**
 * Instance normalisation as PyTorch's `nn.InstanceNorm2d(affine=False,
 * track_running_stats=False)`: each sample and channel normalised over its
 * own spatial extent.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { ConfigDict, Layer, Tensor } from "./types.ts";

/** Options of {@linkcode InstanceNormalization}. */
export interface InstanceNormalizationOptions {
  /** Added to the variance before the square root. @default 1e-5 */
  epsilon?: number;
  /** Layer name. @default generated */
  name?: string;
}

/**
 * A parameter-free instance normalisation layer (NHWC). Registered with
 * tfjs serialization as `InstanceNormalization`.
 */
export class InstanceNormalization extends tf.layers.Layer {
  /** Name used by tfjs serialization. */
  static className = "InstanceNormalization";
  /** Added to the variance before the square root. */
  readonly epsilon: number;

  /** Creates the layer. */
  constructor(options: InstanceNormalizationOptions = {}) {
    super({ name: options.name });
    this.epsilon = options.epsilon ?? 1e-5;
  }

  /** Normalises `inputs` over height and width. */
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const { mean, variance } = tf.moments(x, [1, 2], true);
      return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.epsilon)));
    });
  }

  /** Serializable configuration. */
  override getConfig(): ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(InstanceNormalization);

/** Creates an {@linkcode InstanceNormalization} layer. */
export function instanceNormalization(
  options: InstanceNormalizationOptions = {},
): Layer {
  return new InstanceNormalization(options);
}
