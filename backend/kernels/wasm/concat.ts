/**
 * `Concat` on the wasm backend: copies runs on the heap (the stock kernel makes a subarray per row).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { concatFast } from "../data_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Concat` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.ConcatAttrs;
};

function concat(args: Args): tf.TensorInfo {
  return concatFast(args as never, wasmKernelContext().stock("Concat"));
}

/** p2p's `Concat` kernel for the wasm backend. */
export const concatConfig: tf.KernelConfig = {
  kernelName: "Concat",
  backendName: "wasm",
  kernelFunc: concat as unknown as tf.KernelFunc,
};
