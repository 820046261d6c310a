/**
 * `Conv2DBackpropInput` on the wasm backend: `sgemm` + col2im with a BLAS; without one the sub-pixel split over XNNPACK convolutions.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { conv2DBackpropInputBlas } from "../blas_conv.ts";
import { conv2DBackpropInputFast } from "../conv2d_backprop_input.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Conv2DBackpropInput` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.Conv2DBackpropInputAttrs;
};

function conv2DBackpropInput(args: Args): tf.TensorInfo {
  const ctx = wasmKernelContext();
  return ctx.blas
    ? conv2DBackpropInputBlas(
      args as never,
      ctx.blas,
      ctx.stock("Conv2DBackpropInput"),
    )
    : conv2DBackpropInputFast(args as never, ctx.inputDeps);
}

/** p2p's `Conv2DBackpropInput` kernel for the wasm backend. */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: "Conv2DBackpropInput",
  backendName: "wasm",
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};
