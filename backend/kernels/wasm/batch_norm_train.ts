/**
 * `P2pBatchNormTrain` on the wasm backend: training-mode batch normalisation
 * over every axis but the last, in two passes over the heap (see
 * `batch_norm_heap.ts`).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { batchNormTrainHeap } from "../batch_norm_heap.ts";

/** Name of the training-mode batch-norm kernel. */
export const BATCH_NORM_TRAIN = "P2pBatchNormTrain";

/** p2p's `P2pBatchNormTrain` kernel for the wasm backend. */
export const batchNormTrainConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAIN,
  backendName: "wasm",
  kernelFunc: batchNormTrainHeap as unknown as tf.KernelFunc,
};
