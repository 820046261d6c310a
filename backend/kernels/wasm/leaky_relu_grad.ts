/**
 * `P2pLeakyReluGrad` on the wasm backend: LeakyRelu's gradient in one pass
 * (see `leakyReluGradFast`), in place of tfjs's `Greater`, `Multiply` and
 * `Select`; `@p2p/layers`' LeakyRelu gradient runs it where it is
 * registered.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { leakyReluGradFast } from "../elementwise_kernels.ts";

/** Arguments of `P2pLeakyReluGrad` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: Record<string, unknown>;
};

function leakyReluGrad(args: Args): tf.TensorInfo {
  return leakyReluGradFast(args as never);
}

/** p2p's `P2pLeakyReluGrad` kernel for the wasm backend. */
export const leakyReluGradConfig: tf.KernelConfig = {
  kernelName: "P2pLeakyReluGrad",
  backendName: "wasm",
  kernelFunc: leakyReluGrad as unknown as tf.KernelFunc,
};
