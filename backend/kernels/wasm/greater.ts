/**
 * `Greater` on the wasm backend: a branch-free loop for same shapes or a scalar (else the stock kernel).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { greaterFast } from "../elementwise_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Greater` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.NamedAttrMap;
};

function greater(args: Args): tf.TensorInfo {
  return greaterFast(args as never, wasmKernelContext().stock("Greater"));
}

/** p2p's `Greater` kernel for the wasm backend. */
export const greaterConfig: tf.KernelConfig = {
  kernelName: "Greater",
  backendName: "wasm",
  kernelFunc: greater as unknown as tf.KernelFunc,
};
