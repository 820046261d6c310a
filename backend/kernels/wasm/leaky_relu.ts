/**
 * `LeakyRelu` on the wasm backend: a branch-free loop (`(v + |v|)/2 + α(v − |v|)/2`), bit-identical to cpu's.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { leakyReluFast } from "../elementwise_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `LeakyRelu` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.LeakyReluAttrs;
};

function leakyRelu(args: Args): tf.TensorInfo {
  return leakyReluFast(args as never, wasmKernelContext().stock("LeakyRelu"));
}

/** p2p's `LeakyRelu` kernel for the wasm backend. */
export const leakyReluConfig: tf.KernelConfig = {
  kernelName: "LeakyRelu",
  backendName: "wasm",
  kernelFunc: leakyRelu as unknown as tf.KernelFunc,
};
