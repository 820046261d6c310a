/**
 * Activations by name.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { SymbolicTensor } from "./conv.ts";
import { registerLeakyReluGradient } from "./leaky_relu_grad.ts";

/** Activation kinds used by pix2pix networks. */
export type ActivationKind =
  | "leakyRelu"
  | "relu"
  | "tanh"
  | "sigmoid"
  | "softmax"
  | "none";

/**
 * Applies the named activation (LeakyReLU slope 0.2) to `x`. A leaky ReLU's
 * gradient runs one fused kernel where the backend has it
 * (`leaky_relu_grad.ts`).
 */
export function activate(
  x: SymbolicTensor,
  kind: ActivationKind,
  name?: string,
): SymbolicTensor {
  switch (kind) {
    case "leakyRelu":
      registerLeakyReluGradient();
      return tf.layers.leakyReLU({ alpha: 0.2, name }).apply(
        x,
      ) as SymbolicTensor;
    case "relu":
      return tf.layers.reLU({ name }).apply(x) as SymbolicTensor;
    case "tanh":
    case "sigmoid":
    case "softmax":
      return tf.layers.activation({ activation: kind, name }).apply(
        x,
      ) as SymbolicTensor;
    case "none":
      return x;
    default:
      throw new RangeError(
        `activation must be one of leakyRelu, relu, tanh, sigmoid, softmax, none, received "${kind}"`,
      );
  }
}
