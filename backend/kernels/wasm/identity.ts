/**
 * `Identity` on the wasm backend: shares the input's memory instead of copying it.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { identityShared } from "../data_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Identity` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.NamedAttrMap;
};

function identity(args: Args): tf.TensorInfo {
  return identityShared(args as never, wasmKernelContext().stock("Identity"));
}

/** p2p's `Identity` kernel for the wasm backend. */
export const identityConfig: tf.KernelConfig = {
  kernelName: "Identity",
  backendName: "wasm",
  kernelFunc: identity as unknown as tf.KernelFunc,
};
