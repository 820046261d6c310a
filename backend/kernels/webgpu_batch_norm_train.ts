/**
 * `P2pBatchNormTrain` on the tfjs WebGPU backend (the contract of the wasm
 * kernel, `wasm/batch_norm_train.ts`): a per-channel mean, the variance
 * about it, the normalised output and, given `movingMean` and
 * `movingVariance`, their moving-average updates; five small programs
 * (`webgpu_batch_norm_programs.ts`) instead of tfjs's dozen.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  BatchNormApplyProgram,
  ChannelReduceProgram,
  elementUniforms,
  MovingAverageProgram,
} from "./webgpu_batch_norm_programs.ts";
import type { WebGpuBackendLike } from "./webgpu_program.ts";

/** Inputs and attributes of `P2pBatchNormTrain`. */
export interface BatchNormTrainWebGpuArgs {
  /** `x`, `gamma`, `beta`, optionally `movingMean` and `movingVariance`. */
  inputs: Record<string, tf.TensorInfo>;
  /** The WebGPU backend. */
  backend: WebGpuBackendLike;
  /** `epsilon`, and `momentum` with the moving statistics. */
  attrs: Record<string, unknown>;
}

/** The reduction uniforms: rows, channels, ε. */
export function reduceUniforms(
  rows: number,
  channels: number,
  eps: number,
): Array<{ type: string; data: number[] }> {
  return [
    { type: "int32", data: [rows] },
    { type: "int32", data: [channels] },
    { type: "float32", data: [eps] },
  ];
}

/** The WebGPU `P2pBatchNormTrain` kernel function: y, μ, σ² (and the moving updates). */
export function batchNormTrainWebGpu(
  args: BatchNormTrainWebGpuArgs,
): tf.TensorInfo[] {
  const { inputs: { x, gamma, beta, movingMean, movingVariance }, backend } =
    args;
  const eps = args.attrs.epsilon as number;
  const channels = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  if (x.dtype !== "float32" || x.shape.length < 2) {
    throw new Error(
      `p2p WebGPU P2pBatchNormTrain: expected float32 x of rank ≥ 2, received ${x.dtype} [${x.shape}]`,
    );
  }
  const reduce = reduceUniforms(rows, channels, eps);
  const mean = backend.runWebGPUProgram(
    new ChannelReduceProgram(channels, "mean", rows),
    [x],
    "float32",
    reduce,
  );
  const variance = backend.runWebGPUProgram(
    new ChannelReduceProgram(channels, "variance", rows),
    [x, mean],
    "float32",
    reduce,
  );
  const apply = new BatchNormApplyProgram([...x.shape]);
  const y = backend.runWebGPUProgram(
    apply,
    [x, gamma, beta, mean, variance],
    "float32",
    elementUniforms(apply, channels, eps),
  );
  if (movingMean === undefined || movingVariance === undefined) {
    return [y, mean, variance];
  }
  // tfjs rounds 1 − momentum to float32 for its Mul; so does the uniform.
  const decay = [{
    type: "float32",
    data: [1 - (args.attrs.momentum as number)],
  }];
  const program = new MovingAverageProgram(channels);
  return [
    y,
    mean,
    variance,
    backend.runWebGPUProgram(program, [movingMean, mean], "float32", decay),
    backend.runWebGPUProgram(
      program,
      [movingVariance, variance],
      "float32",
      decay,
    ),
  ];
}
