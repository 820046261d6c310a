/**
 * `Conv2DBackpropFilter` on the wasm backend: im2col + `sgemm` with a BLAS; without one a convolution over the stock Transpose + XNNPACK Conv2D (tfjs-wasm has no such kernel).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { conv2DBackpropFilterBlas } from "../blas_conv.ts";
import { conv2DBackpropFilterWasm } from "../conv2d_backprop_filter.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Conv2DBackpropFilter` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.Conv2DBackpropFilterAttrs;
};

function conv2DBackpropFilter(args: Args): tf.TensorInfo {
  const ctx = wasmKernelContext();
  return ctx.blas
    ? conv2DBackpropFilterBlas(args as never, ctx.blas)
    : conv2DBackpropFilterWasm(args as never, ctx.filterDeps);
}

/** p2p's `Conv2DBackpropFilter` kernel for the wasm backend. */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  backendName: "wasm",
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
