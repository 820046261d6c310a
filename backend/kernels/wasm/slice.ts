/**
 * `Slice` on the wasm backend: copies only the slice (the stock kernel copies the whole input first).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { sliceFast } from "../data_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Slice` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.SliceAttrs;
};

function slice(args: Args): tf.TensorInfo {
  return sliceFast(args as never, wasmKernelContext().stock("Slice"));
}

/** p2p's `Slice` kernel for the wasm backend. */
export const sliceConfig: tf.KernelConfig = {
  kernelName: "Slice",
  backendName: "wasm",
  kernelFunc: slice as unknown as tf.KernelFunc,
};
