/**
 * `FusedConv2D` on the wasm backend: the BLAS convolution plus bias and activation in place (else the stock kernel).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { fusedConv2DBlas } from "../blas_conv.ts";
import { contextBlas, wasmKernelContext } from "./context.ts";

/** Arguments of `FusedConv2D` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.FusedConv2DAttrs;
};

function fusedConv2D(args: Args): tf.TensorInfo {
  return fusedConv2DBlas(
    args as never,
    contextBlas("FusedConv2D"),
    wasmKernelContext().stock("FusedConv2D"),
  );
}

/** p2p's `FusedConv2D` kernel for the wasm backend. */
export const fusedConv2DConfig: tf.KernelConfig = {
  kernelName: "FusedConv2D",
  backendName: "wasm",
  kernelFunc: fusedConv2D as unknown as tf.KernelFunc,
};
