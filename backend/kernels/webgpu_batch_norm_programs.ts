/**
 * WGSL programs of p2p's training-mode batch norm on the tfjs WebGPU backend
 * (channels last: `x` is `M` rows of `C` channels):
 *
 * - {@linkcode ChannelReduceProgram}: one value a channel, a workgroup of
 *   256 invocations per channel summing its `M` values (strided), then a
 *   tree in workgroup memory: the mean, the biased variance about a given
 *   mean, Σdy, or Σdy·x̂;
 * - {@linkcode BatchNormApplyProgram}: y = γ·(x − μ)/√(σ² + ε) + β;
 * - {@linkcode MovingAverageProgram}: m − (m − s)·decay (tfjs-layers'
 *   moving-average update);
 * - {@linkcode BatchNormGradProgram}: dx from dy, x, the statistics, dγ, dβ
 *   and the gradients of the statistics outputs.
 *
 * @module
 */
import type { WebGpuProgram } from "./webgpu_program.ts";

/** Most invocations of one channel's reduction. */
const REDUCE_THREADS = 256;

/**
 * Invocations of one channel's reduction over `rows` rows: 256, or the
 * power of two at or above `rows` (at least 8, llvmpipe's SIMD width) where
 * that is fewer. Bit for bit the same sums: with at least as many
 * invocations as rows, each holds at most one row and the others add
 * zeros to the same tree. The deep layers of a U-Net (4 to 64 rows, 256
 * to 512 channels) no longer run 256 invocations and 8 barriers a channel.
 */
export function reduceThreads(rows: number): number {
  let threads = 8;
  while (threads < rows && threads < REDUCE_THREADS) threads *= 2;
  return threads;
}
/** Invocations per workgroup of the element-wise programs. */
const ELEMENT_THREADS = 256;
/** Most workgroups an element-wise program dispatches (a grid-stride loop covers the rest). */
const MAX_WORKGROUPS = 4096;

/** What {@linkcode ChannelReduceProgram} sums, per channel. */
export type ChannelReduction =
  /** Σx / M, inputs `x`. */
  | "mean"
  /** Σ(x − μ)² / M, inputs `x`, `mean`. */
  | "variance"
  /** Σdy, inputs `dy`. */
  | "sum"
  /** Σdy·(x − μ)/√(σ² + ε), inputs `dy`, `x`, `mean`, `variance`. */
  | "sumDyXhat";

const TERMS: Record<ChannelReduction, [string[], string, string]> = {
  mean: [["x"], "x[i]", "/ f32(uniforms.M)"],
  variance: [
    ["x", "mean"],
    "(x[i] - mean[c]) * (x[i] - mean[c])",
    "/ f32(uniforms.M)",
  ],
  sum: [["dy"], "dy[i]", ""],
  sumDyXhat: [
    ["dy", "x", "mean", "variance"],
    "dy[i] * (x[i] - mean[c])",
    "* inverseSqrt(variance[c] + uniforms.eps)",
  ],
};

/**
 * A per-channel reduction over `M` rows of `C` channels: output `[C]`;
 * uniforms `M`, `C`, `eps`. `rows` (`M`) sizes the workgroup
 * ({@linkcode reduceThreads}).
 */
export class ChannelReduceProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] } = { x: [0] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = "M : i32, C : i32, eps : f32,";
  workgroupSize: [number, number, number];
  private readonly what: ChannelReduction;
  private readonly threads: number;

  constructor(channels: number, what: ChannelReduction, rows = Infinity) {
    this.outputShape = [channels];
    this.what = what;
    this.threads = reduceThreads(rows);
    this.workgroupSize = [this.threads, 1, 1];
    this.shaderKey = `p2pBatchNormReduce_${what}_${this.threads}`;
    this.variableNames = TERMS[what][0];
    this.dispatch = [channels, 1, 1];
  }

  getUserCode(): string {
    const [, term, finish] = TERMS[this.what];
    return /* wgsl */ `
var<workgroup> sums : array<f32, ${this.threads}>;

fn main(index : i32) {
  let c = i32(workgroupId.x);
  let t = i32(localIndex);
  var acc = 0.0;
  for (var r = t; r < uniforms.M; r += ${this.threads}) {
    let i = r * uniforms.C + c;
    acc += ${term};
  }
  sums[t] = acc;
  workgroupBarrier();
  for (var s = ${this.threads / 2}; s > 0; s = s >> 1) {
    if (t < s) {
      sums[t] += sums[t + s];
    }
    workgroupBarrier();
  }
  if (t == 0) {
    result[c] = sums[0] ${finish};
  }
}
`;
  }
}

/** Workgroups of a grid-stride element-wise program over `size` values. */
function elementDispatch(size: number): [number, number, number] {
  return [
    Math.max(1, Math.min(MAX_WORKGROUPS, Math.ceil(size / ELEMENT_THREADS))),
    1,
    1,
  ];
}

/** An element-wise program over `x`'s shape, `C` channels last; uniforms `C`, `eps`. */
abstract class ElementProgram implements WebGpuProgram {
  outputShape: number[];
  abstract shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  abstract variableNames: string[];
  uniforms = "C : i32, eps : f32, total : i32,";
  workgroupSize: [number, number, number] = [ELEMENT_THREADS, 1, 1];
  size = true;

  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = elementDispatch(shape.reduce((a, b) => a * b, 1));
  }

  /** WGSL of one output value `result[i]` (channel `c`). */
  abstract body(): string;

  getUserCode(): string {
    return /* wgsl */ `
fn main(index : i32) {
  for (var i = index; i < uniforms.size; i += uniforms.total) {
    let c = i % uniforms.C;
    ${this.body()}
  }
}
`;
  }
}

/** y = (x − μ)·γ/√(σ² + ε) + β; inputs `x`, `gamma`, `beta`, `mean`, `variance`. */
export class BatchNormApplyProgram extends ElementProgram {
  shaderKey = "p2pBatchNormApply";
  variableNames = ["x", "gamma", "beta", "mean", "variance"];

  body(): string {
    return `result[i] = (x[i] - mean[c]) * (gamma[c] * inverseSqrt(variance[c] + uniforms.eps)) + beta[c];`;
  }
}

/**
 * dx = a·dy + b·(x − μ) + d, inputs `dy`, `x`, `mean` and `coeffs` (a, b
 * and d of each channel, from {@linkcode BatchNormGradCoeffProgram}).
 */
export class BatchNormGradProgram extends ElementProgram {
  shaderKey = "p2pBatchNormGrad";
  variableNames = ["dy", "x", "mean", "coeffs"];

  body(): string {
    return `result[i] = coeffs[c] * dy[i] + coeffs[uniforms.C + c] * (x[i] - mean[c]) + coeffs[2 * uniforms.C + c];`;
  }
}

/**
 * The per-channel coefficients of dx, output `[3, C]`: a = γ/√(σ² + ε),
 * b = 2·dσ²/M − a·dγ/(M·√(σ² + ε)), d = (dμ − a·dβ)/M; inputs `gamma`,
 * `variance`, `dmean`, `dvariance`, `dgamma`, `dbeta`; uniforms `eps`,
 * `invM` (a separate program: dx's program would need more storage buffers
 * than WebGPU's default limit of 8 a stage).
 */
export class BatchNormGradCoeffProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey = "p2pBatchNormGradCoeffs";
  dispatchLayout: { x: number[] } = { x: [0, 1] };
  dispatch: [number, number, number];
  variableNames = [
    "gamma",
    "variance",
    "dmean",
    "dvariance",
    "dgamma",
    "dbeta",
  ];
  uniforms = "C : i32, eps : f32, invM : f32,";
  workgroupSize: [number, number, number] = [64, 1, 1];

  constructor(channels: number) {
    this.outputShape = [3, channels];
    this.dispatch = [Math.ceil(channels / 64), 1, 1];
  }

  getUserCode(): string {
    return /* wgsl */ `
fn main(index : i32) {
  let c = index;
  if (c < uniforms.C) {
    let invstd = inverseSqrt(variance[c] + uniforms.eps);
    let a = gamma[c] * invstd;
    result[c] = a;
    result[uniforms.C + c] = 2.0 * dvariance[c] * uniforms.invM - a * invstd * dgamma[c] * uniforms.invM;
    result[2 * uniforms.C + c] = (dmean[c] - a * dbeta[c]) * uniforms.invM;
  }
}
`;
  }
}

/** m − (m − s)·decay; inputs `moving`, `batch` (`[C]`); uniform `decay`. */
export class MovingAverageProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey = "p2pBatchNormMovingAverage";
  dispatchLayout: { x: number[] } = { x: [0] };
  dispatch: [number, number, number];
  variableNames = ["moving", "batch"];
  uniforms = "decay : f32,";
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(channels: number) {
    this.outputShape = [channels];
    this.dispatch = [Math.ceil(channels / 64), 1, 1];
  }

  getUserCode(): string {
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    result[index] = moving[index] - (moving[index] - batch[index]) * uniforms.decay;
  }
}
`;
  }
}

/** The uniforms every element-wise program takes: `C`, `eps`, and the invocations in all. */
export function elementUniforms(
  program: WebGpuProgram,
  channels: number,
  eps: number,
): Array<{ type: string; data: number[] }> {
  return [
    { type: "int32", data: [channels] },
    { type: "float32", data: [eps] },
    { type: "int32", data: [program.dispatch[0] * ELEMENT_THREADS] },
  ];
}
