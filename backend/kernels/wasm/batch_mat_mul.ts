/**
 * `BatchMatMul` on the wasm backend: `sgemm` per batch on the native BLAS (else the stock kernel).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { batchMatMulBlas } from "../blas_conv.ts";
import { contextBlas, wasmKernelContext } from "./context.ts";

/** Arguments of `BatchMatMul` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.BatchMatMulAttrs;
};

function batchMatMul(args: Args): tf.TensorInfo {
  return batchMatMulBlas(
    args as never,
    contextBlas("BatchMatMul"),
    wasmKernelContext().stock("BatchMatMul"),
  );
}

/** p2p's `BatchMatMul` kernel for the wasm backend. */
export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: "BatchMatMul",
  backendName: "wasm",
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
};
