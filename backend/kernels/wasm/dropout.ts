/**
 * `P2pDropout` on the wasm backend (see `dropout_kernel.ts`); `@p2p/layers`'
 * SeededDropout runs it where it is registered.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { DROPOUT_KERNEL, dropoutFast } from "../dropout_kernel.ts";

/** Arguments of `P2pDropout` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: Record<string, unknown>;
};

function dropout(args: Args): tf.TensorInfo {
  return dropoutFast(args as never);
}

/** p2p's `P2pDropout` kernel for the wasm backend. */
export const dropoutConfig: tf.KernelConfig = {
  kernelName: DROPOUT_KERNEL,
  backendName: "wasm",
  kernelFunc: dropout as unknown as tf.KernelFunc,
};
