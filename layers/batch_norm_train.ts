/**
 * Training-mode batch normalisation as one op: the statistics over every
 * axis but the last (the channels), the normalised output, optionally the
 * moving-average updates, and a gradient in closed form. Where the current
 * backend has p2p's `P2pBatchNormTrain` kernel (wasm after
 * `registerFastWasmKernels`, webgpu after `registerWebGpuKernels`, both in
 * `@p2p/backend`) the forward is that one kernel and the backward
 * `P2pBatchNormTrainGrad` (the tf ops of the same formula when the backward
 * pass is itself differentiated); elsewhere it is what tfjs-layers computes
 * (`tf.moments`, then `tf.batchNorm`) with tfjs's own gradients.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "./types.ts";

/**
 * Name of the fused forward kernel: inputs `x`, `gamma`, `beta`, optionally
 * `movingMean` and `movingVariance`; attrs `epsilon` and (with the moving
 * statistics) `momentum`; outputs y, μ, σ² and, with the moving statistics,
 * their updates (see {@linkcode movingAverage}).
 */
export const BATCH_NORM_TRAIN_KERNEL = "P2pBatchNormTrain";

/**
 * Name of the fused gradient kernel (inputs `dy`, `x`, `gamma`, `mean`,
 * `variance`, `dmean`, `dvariance`; attr `epsilon`; outputs dx, dγ, dβ).
 */
export const BATCH_NORM_TRAIN_GRAD_KERNEL = "P2pBatchNormTrainGrad";

/** What {@linkcode batchNormTrain} returns. */
export interface BatchNormTrainResult {
  /** γ·(x − μ)/√(σ² + ε) + β, the shape of x. */
  y: Tensor;
  /** μ, the mean of each channel (shape `[C]`). */
  mean: Tensor;
  /** σ², the biased variance of each channel (shape `[C]`). */
  variance: Tensor;
  /** The updated moving mean, when {@linkcode BatchNormTrainOptions.moving} was given. */
  movingMean?: Tensor;
  /** The updated moving variance, when {@linkcode BatchNormTrainOptions.moving} was given. */
  movingVariance?: Tensor;
}

/** Moving statistics to update along with the forward pass. */
export interface MovingStatistics {
  /** The moving mean before this batch (shape `[C]`). */
  mean: Tensor;
  /** The moving variance before this batch (shape `[C]`). */
  variance: Tensor;
  /** Weight of the old value (tfjs-layers' `momentum`). */
  momentum: number;
}

/** Options of {@linkcode batchNormTrain}. */
export interface BatchNormTrainOptions {
  /** Added to σ² before the square root. @default 1e-5 */
  epsilon?: number;
  /**
   * Moving statistics to update as tfjs-layers does (see
   * {@linkcode movingAverage}); the result then has `movingMean` and
   * `movingVariance`.
   * @default undefined
   */
  moving?: MovingStatistics;
  /**
   * Use the fused kernels where the backend has them (`false`: always the
   * composite tf ops, for comparisons).
   * @default true
   */
  fused?: boolean;
}

/**
 * `value ← value − (value − batch)·(1 − momentum)`, the ops of tfjs-layers'
 * `doMovingAverage` (the fused kernel rounds each step to float32 the same
 * way).
 */
export function movingAverage(
  value: Tensor,
  batch: Tensor,
  momentum: number,
): Tensor {
  return tf.tidy(() =>
    tf.sub(value, tf.mul(tf.sub(value, batch), 1 - momentum))
  );
}

/** Whether the current backend has the fused forward kernel. */
export function batchNormTrainFused(): boolean {
  return tf.getKernel(BATCH_NORM_TRAIN_KERNEL, tf.getBackend()) != null;
}

/** The inputs of the gradient: of the fused kernel and of {@linkcode compositeGrad} alike. */
type GradInputs = Record<
  "dy" | "x" | "gamma" | "mean" | "variance" | "dmean" | "dvariance",
  tf.Tensor
>;

/**
 * The gradient in tf ops (differentiable again, for the gradient penalty):
 * dβ = Σdy, dγ = Σdy·x̂,
 * dx = γ/√(σ² + ε)·(dy − dβ/M − x̂·dγ/M) + dμ/M + 2·dσ²·(x − μ)/M.
 */
function compositeGrad(
  inputs: GradInputs,
  epsilon: number,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const { dy, x, gamma, mean, variance, dmean, dvariance } = inputs;
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const m = x.size / x.shape[x.shape.length - 1];
    const invstd = tf.rsqrt(tf.add(variance, epsilon));
    const centred = tf.sub(x, mean);
    const xhat = tf.mul(centred, invstd);
    const dBeta = tf.sum(dy, axes);
    const dGamma = tf.sum(tf.mul(dy, xhat), axes);
    const inner = tf.sub(
      tf.sub(dy, tf.div(dBeta, m)),
      tf.mul(xhat, tf.div(dGamma, m)),
    );
    const dx = tf.add(
      tf.add(tf.mul(inner, tf.mul(gamma, invstd)), tf.div(dmean, m)),
      tf.mul(centred, tf.mul(dvariance, 2 / m)),
    );
    return [dx, dGamma, dBeta];
  });
}

/**
 * The registered gradient of `P2pBatchNormTrain`: the fused kernel when the
 * backend has it and this backward pass is not itself recorded (a gradient
 * of a gradient), else {@linkcode compositeGrad}.
 */
function registerBatchNormTrainGradient(): void {
  if (tf.getGradient(BATCH_NORM_TRAIN_KERNEL) != null) return;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN_KERNEL,
    inputsToSave: ["x", "gamma"],
    outputsToSave: [false, true, true, false, false],
    gradFunc: (
      dys: tf.Tensor | tf.Tensor[],
      saved: tf.Tensor[],
      attrs: tf.NamedAttrMap,
    ) => {
      const [dy, dmean, dvariance] = dys as tf.Tensor[];
      const [x, gamma, mean, variance] = saved;
      const epsilon = attrs.epsilon as number;
      // One kernel gives all three; computed here, outside the per-input
      // tidy of tfjs's backprop, which would dispose the other two.
      const fused = tf.engine().state.gradientDepth === 0 &&
        tf.getKernel(BATCH_NORM_TRAIN_GRAD_KERNEL, tf.getBackend()) != null;
      const inputs = { dy, x, gamma, mean, variance, dmean, dvariance };
      const [dx, dGamma, dBeta] = fused
        ? tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD_KERNEL, inputs, {
          epsilon,
        }) as tf.Tensor[]
        : compositeGrad(inputs, epsilon);
      return {
        x: () => dx,
        gamma: () => dGamma,
        beta: () => dBeta,
      };
    },
  });
}

/**
 * Training-mode batch normalisation of `x` (channels last) with scale
 * `gamma` and offset `beta` (shape `[C]`): returns y and the batch
 * statistics μ and σ² (biased), differentiable with respect to x, γ and β.
 * Runs the fused kernels where the backend has them, else the composite of
 * tfjs-layers (`tf.moments`, `tf.batchNorm`); both agree to float rounding.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { batchNormTrain } from "./batch_norm_train.ts";
 *
 * const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]);
 * const { y, mean, variance } = batchNormTrain(x, tf.ones([2]), tf.zeros([2]));
 * console.log(mean.arraySync(), variance.arraySync()); // [4, 5] [5, 5]
 * console.log(y.shape); // [2, 2, 1, 2]
 * ```
 */
export function batchNormTrain(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  options: BatchNormTrainOptions = {},
): BatchNormTrainResult {
  const epsilon = options.epsilon ?? 1e-5;
  const channels = x.shape[x.shape.length - 1];
  if (
    x.rank < 2 || gamma.rank !== 1 || beta.rank !== 1 ||
    gamma.size !== channels || beta.size !== channels
  ) {
    throw new Error(
      `batchNormTrain: expected x of rank ≥ 2 and γ, β of shape [${channels}] (its last axis), ` +
        `received x [${x.shape}], γ [${gamma.shape}], β [${beta.shape}]`,
    );
  }
  if (
    (options.fused ?? true) && x.dtype === "float32" && batchNormTrainFused()
  ) {
    registerBatchNormTrainGradient();
    const moving = options.moving;
    const inputs: tf.NamedTensorMap = { x, gamma, beta };
    if (moving) {
      inputs.movingMean = moving.mean;
      inputs.movingVariance = moving.variance;
    }
    const [y, mean, variance, movingMean, movingVariance] = tf.engine()
      .runKernel(
        BATCH_NORM_TRAIN_KERNEL,
        inputs,
        moving ? { epsilon, momentum: moving.momentum } : { epsilon },
      ) as Tensor[];
    return moving
      ? { y, mean, variance, movingMean, movingVariance }
      : { y, mean, variance };
  }
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    const y = tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
    const moving = options.moving;
    return moving
      ? {
        y,
        mean,
        variance,
        movingMean: movingAverage(moving.mean, mean, moving.momentum),
        movingVariance: movingAverage(
          moving.variance,
          variance,
          moving.momentum,
        ),
      }
      : { y, mean, variance };
  });
}
