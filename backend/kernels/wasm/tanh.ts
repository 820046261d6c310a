/**
 * `Tanh` on the wasm backend: a rational approximation within 2 ulp of
 * float32 tanh (see `tanhFast`), ~8× tfjs-wasm's own.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { tanhFast } from "../elementwise_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Tanh` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: Record<string, never>;
};

function tanh(args: Args): tf.TensorInfo {
  return tanhFast(args as never, wasmKernelContext().stock("Tanh"));
}

/** p2p's `Tanh` kernel for the wasm backend. */
export const tanhConfig: tf.KernelConfig = {
  kernelName: "Tanh",
  backendName: "wasm",
  kernelFunc: tanh as unknown as tf.KernelFunc,
};
