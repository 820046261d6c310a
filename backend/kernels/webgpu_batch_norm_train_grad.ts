/**
 * `P2pBatchNormTrainGrad` on the tfjs WebGPU backend (the contract of the
 * wasm kernel, `wasm/batch_norm_train_grad.ts`): dβ = Σdy and dγ = Σdy·x̂ as
 * per-channel reductions, dx's per-channel coefficients, then dx
 * element-wise
 * (`webgpu_batch_norm_programs.ts`).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  BatchNormGradCoeffProgram,
  BatchNormGradProgram,
  ChannelReduceProgram,
  elementUniforms,
} from "./webgpu_batch_norm_programs.ts";
import {
  type BatchNormTrainWebGpuArgs,
  reduceUniforms,
} from "./webgpu_batch_norm_train.ts";

/** The WebGPU `P2pBatchNormTrainGrad` kernel function: dx, dγ, dβ. */
export function batchNormTrainGradWebGpu(
  args: BatchNormTrainWebGpuArgs,
): tf.TensorInfo[] {
  const {
    inputs: { dy, x, gamma, mean, variance, dmean, dvariance },
    backend,
  } = args;
  const eps = args.attrs.epsilon as number;
  const channels = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  const reduce = reduceUniforms(rows, channels, eps);
  const dBeta = backend.runWebGPUProgram(
    new ChannelReduceProgram(channels, "sum", rows),
    [dy],
    "float32",
    reduce,
  );
  const dGamma = backend.runWebGPUProgram(
    new ChannelReduceProgram(channels, "sumDyXhat", rows),
    [dy, x, mean, variance],
    "float32",
    reduce,
  );
  const coeffs = backend.runWebGPUProgram(
    new BatchNormGradCoeffProgram(channels),
    [gamma, variance, dmean, dvariance, dGamma, dBeta],
    "float32",
    [
      { type: "int32", data: [channels] },
      { type: "float32", data: [eps] },
      { type: "float32", data: [1 / rows] },
    ],
  );
  const program = new BatchNormGradProgram([...x.shape]);
  const dx = backend.runWebGPUProgram(
    program,
    [dy, x, mean, coeffs],
    "float32",
    elementUniforms(program, channels, eps),
  );
  backend.disposeData(coeffs.dataId);
  return [dx, dGamma, dBeta];
}
