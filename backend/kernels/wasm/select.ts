/**
 * `Select` on the wasm backend: a branch-free loop with integer masks for same shapes (else the stock kernel).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { selectFast } from "../elementwise_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Select` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.NamedAttrMap;
};

function select(args: Args): tf.TensorInfo {
  return selectFast(args as never, wasmKernelContext().stock("Select"));
}

/** p2p's `Select` kernel for the wasm backend. */
export const selectConfig: tf.KernelConfig = {
  kernelName: "Select",
  backendName: "wasm",
  kernelFunc: select as unknown as tf.KernelFunc,
};
