/**
 * `SplitV` on the wasm backend: copies only each part (the stock kernel copies the whole input first).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { splitFast } from "../data_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `SplitV` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.SplitVAttrs;
};

function splitV(args: Args): tf.TensorInfo[] {
  return splitFast(args as never, wasmKernelContext().stock("SplitV"));
}

/** p2p's `SplitV` kernel for the wasm backend. */
export const splitVConfig: tf.KernelConfig = {
  kernelName: "SplitV",
  backendName: "wasm",
  kernelFunc: splitV as unknown as tf.KernelFunc,
};
