/**
 * `Mean` on the wasm backend: averages over leading axes without a transpose (other axes: the stock kernel).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { reduceLeading } from "../data_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Mean` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.MeanAttrs;
};

function mean(args: Args): tf.TensorInfo {
  return reduceLeading(args as never, wasmKernelContext().stock("Mean"), true);
}

/** p2p's `Mean` kernel for the wasm backend. */
export const meanConfig: tf.KernelConfig = {
  kernelName: "Mean",
  backendName: "wasm",
  kernelFunc: mean as unknown as tf.KernelFunc,
};
