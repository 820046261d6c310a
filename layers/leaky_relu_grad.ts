/**
 * The `LeakyRelu` gradient, routed to one fused kernel where the backend has
 * p2p's `P2pLeakyReluGrad` (WebGPU, wasm): tfjs's gradient is three kernels
 * (`Greater`, `Multiply`, `Select`). Elsewhere, and when the backward pass is
 * itself recorded (a gradient of a gradient), tfjs's own gradient runs, so
 * the values are the same: `dx = x > 0 ? dy : alpha · dy`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** The fused kernel's name. */
export const LEAKY_RELU_GRAD_KERNEL = "P2pLeakyReluGrad";

let registered = false;

/**
 * Replaces the registered `LeakyRelu` gradient (once) by one that runs
 * {@linkcode LEAKY_RELU_GRAD_KERNEL} where the current backend has it and
 * no gradient is being recorded, else tfjs's gradient.
 */
export function registerLeakyReluGradient(): void {
  if (registered) return;
  const stock = tf.getGradient("LeakyRelu");
  if (stock == null) return;
  registered = true;
  tf.registerGradient({
    kernelName: "LeakyRelu",
    inputsToSave: stock.inputsToSave,
    outputsToSave: stock.outputsToSave,
    gradFunc: (
      dy: tf.Tensor | tf.Tensor[],
      saved: tf.Tensor[],
      attrs: tf.NamedAttrMap,
    ) => {
      const fused = tf.engine().state.gradientDepth === 0 &&
        tf.getKernel(LEAKY_RELU_GRAD_KERNEL, tf.getBackend()) != null;
      if (!fused) return stock.gradFunc(dy, saved, attrs);
      const [x] = saved;
      return {
        x: () =>
          tf.engine().runKernel(
            LEAKY_RELU_GRAD_KERNEL,
            { dy: dy as tf.Tensor, x },
            { alpha: attrs.alpha as number },
          ) as tf.Tensor,
      };
    },
  });
}
