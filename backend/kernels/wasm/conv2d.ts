/**
 * `Conv2D` on the wasm backend: im2col + `sgemm` on the native BLAS (channels-last, no dilation; else the stock kernel).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { conv2DBlas } from "../blas_conv.ts";
import { contextBlas, wasmKernelContext } from "./context.ts";

/** Arguments of `Conv2D` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.Conv2DAttrs;
};

function conv2D(args: Args): tf.TensorInfo {
  return conv2DBlas(
    args as never,
    contextBlas("Conv2D"),
    wasmKernelContext().stock("Conv2D"),
  );
}

/** p2p's `Conv2D` kernel for the wasm backend. */
export const conv2DConfig: tf.KernelConfig = {
  kernelName: "Conv2D",
  backendName: "wasm",
  kernelFunc: conv2D as unknown as tf.KernelFunc,
};
