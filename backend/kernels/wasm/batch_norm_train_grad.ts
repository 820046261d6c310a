/**
 * `P2pBatchNormTrainGrad` on the wasm backend: the gradient of
 * `P2pBatchNormTrain` (dx, dγ, dβ) in two passes over the heap (see
 * `batch_norm_heap.ts`).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { batchNormTrainGradHeap } from "../batch_norm_heap.ts";

/** Name of the training-mode batch-norm gradient kernel. */
export const BATCH_NORM_TRAIN_GRAD = "P2pBatchNormTrainGrad";

/** p2p's `P2pBatchNormTrainGrad` kernel for the wasm backend. */
export const batchNormTrainGradConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAIN_GRAD,
  backendName: "wasm",
  kernelFunc: batchNormTrainGradHeap as unknown as tf.KernelFunc,
};
