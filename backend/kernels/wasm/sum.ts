/**
 * `Sum` on the wasm backend: sums over leading axes without a transpose (other axes: the stock kernel).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { reduceLeading } from "../data_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Sum` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.SumAttrs;
};

function sum(args: Args): tf.TensorInfo {
  return reduceLeading(args as never, wasmKernelContext().stock("Sum"), false);
}

/** p2p's `Sum` kernel for the wasm backend. */
export const sumConfig: tf.KernelConfig = {
  kernelName: "Sum",
  backendName: "wasm",
  kernelFunc: sum as unknown as tf.KernelFunc,
};
