/**
 * `Add` on the wasm backend: one loop for a tensor plus a per-channel row, a bias (else the stock kernel).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { addBiasFast } from "../elementwise_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Add` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.NamedAttrMap;
};

function add(args: Args): tf.TensorInfo {
  return addBiasFast(args as never, wasmKernelContext().stock("Add"));
}

/** p2p's `Add` kernel for the wasm backend. */
export const addConfig: tf.KernelConfig = {
  kernelName: "Add",
  backendName: "wasm",
  kernelFunc: add as unknown as tf.KernelFunc,
};
