/**
 * Training-mode batch normalisation as loops over the wasm heap, shared by
 * the `P2pBatchNormTrain` and `P2pBatchNormTrainGrad` wasm kernels. The
 * channel is the last axis; statistics are over all the others (M values a
 * channel), accumulated in float64.
 *
 * - Forward: mean μ, biased variance σ², y = γ·(x − μ)/√(σ² + ε) + β, in two
 *   passes (statistics, then y).
 * - Backward, with x̂ = (x − μ)/√(σ² + ε) and the gradients dμ, dσ² that
 *   reach the statistics outputs (zeros when only y is used):
 *   dβ = Σdy, dγ = Σdy·x̂,
 *   dx = γ/√(σ² + ε)·(dy − dβ/M − x̂·dγ/M) + dμ/M + 2·dσ²·(x − μ)/M,
 *   in two passes (sums, then dx).
 *
 * Where C is even and the SIMD loops load (`batch_norm_simd.ts`), the passes
 * over the values run there, two channels at a time with the same float64
 * operations (bit-identical results); per-channel float64 arrays then live in
 * a scratch tensor on the heap.
 *
 * @module
 */
import { heapF32, type TensorInfo, type WasmBackendLike } from "./wasm_heap.ts";
import { type BatchNormLoops, batchNormLoops } from "./batch_norm_simd.ts";

/** Arguments of the batch-norm kernels as tfjs passes them. */
export interface BatchNormHeapArgs {
  /** Named inputs. */
  inputs: Record<string, TensorInfo>;
  /** The wasm backend. */
  backend: WasmBackendLike;
  /** Attributes (`epsilon`). */
  attrs: Record<string, unknown>;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Channels (last axis) and values a channel of `x`; throws on a mismatch with `c`. */
function geometry(
  kernel: string,
  x: TensorInfo,
  c: TensorInfo,
): [number, number] {
  const channels = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || size(c.shape) !== channels) {
    throw new Error(
      `${kernel} (p2p wasm): expected x of rank ≥ 2 and per-channel inputs of ${channels} values, ` +
        `received x [${x.shape}] and [${c.shape}]`,
    );
  }
  return [channels, size(x.shape) / channels];
}

/** The SIMD loops for C channels of M values, or `null` for the JavaScript loops. */
function simdFor(
  backend: WasmBackendLike,
  C: number,
  M: number,
): BatchNormLoops | null {
  return C % 2 === 0 && M > 0 ? batchNormLoops(backend) : null;
}

/**
 * Three float64 arrays of `C` values in a scratch tensor on the heap (dispose
 * it with `backend.disposeData`), or `null` where it is not 8-byte aligned.
 */
function scratch(
  backend: WasmBackendLike,
  C: number,
): [TensorInfo, Float64Array, Float64Array, Float64Array] | null {
  const info = backend.makeOutput([6 * C], "float32");
  const view = heapF32(backend, info);
  if (view.byteOffset % 8 !== 0) {
    backend.disposeData(info.dataId);
    return null;
  }
  const all = new Float64Array(view.buffer, view.byteOffset, 3 * C);
  return [
    info,
    all.subarray(0, C),
    all.subarray(C, 2 * C),
    all.subarray(2 * C, 3 * C),
  ];
}

/** Where {@linkcode channelStats} writes a channel's μ, σ², scale and shift. */
interface StatsOut {
  mean: Float32Array;
  variance: Float32Array;
  scale: Float64Array;
  shift: Float64Array;
}

/**
 * μ, σ² and the scale and shift of y = x·scale + shift of channel `c`, from
 * its sums shifted by `k`, into `out` (no allocation: it runs per channel).
 */
function channelStats(
  out: StatsOut,
  c: number,
  k: number,
  s1: number,
  s2: number,
  M: number,
  gamma: number,
  beta: number,
  eps: number,
): void {
  const m1 = s1 / M;
  const variance = Math.max(0, s2 / M - m1 * m1);
  const mean = k + m1;
  const scale = gamma / Math.sqrt(variance + eps);
  out.mean[c] = mean;
  out.variance[c] = variance;
  out.scale[c] = scale;
  out.shift[c] = beta - mean * scale;
}

/** The tensors of the forward passes: inputs, then outputs. */
interface TrainTensors {
  x: TensorInfo;
  gamma: TensorInfo;
  beta: TensorInfo;
  out: TensorInfo;
  outMean: TensorInfo;
  outVar: TensorInfo;
}

/** Heap views of {@linkcode TrainTensors} (take them after any allocation). */
function trainViews(
  backend: WasmBackendLike,
  t: TrainTensors,
): Record<"X" | "Y" | "G" | "B" | "MU" | "VAR", Float32Array> {
  return {
    X: heapF32(backend, t.x),
    Y: heapF32(backend, t.out),
    G: heapF32(backend, t.gamma),
    B: heapF32(backend, t.beta),
    MU: heapF32(backend, t.outMean),
    VAR: heapF32(backend, t.outVar),
  };
}

/** The forward passes in JavaScript. */
function trainJs(
  backend: WasmBackendLike,
  t: TrainTensors,
  eps: number,
  C: number,
  M: number,
): void {
  const { X, Y, G, B, MU, VAR } = trainViews(backend, t);
  const n = M * C;
  // Per channel, sums of x − k and (x − k)² in registers, shifted by the
  // channel's first value k so that a large mean does not cancel the
  // variance away (a strided loop per channel: twice as fast in V8 as
  // accumulating every channel of a row into arrays).
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  const stats = { mean: MU, variance: VAR, scale, shift };
  for (let c = 0; c < C; c++) {
    const k = M > 0 ? X[c] : 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = c; i < n; i += C) {
      const d = X[i] - k;
      s1 += d;
      s2 += d * d;
    }
    channelStats(
      stats,
      c,
      k,
      s1,
      s2,
      M,
      G[c],
      B[c],
      eps,
    );
  }
  for (let i = 0, c = 0; i < n; i++) {
    Y[i] = X[i] * scale[c] + shift[c];
    if (++c === C) c = 0;
  }
}

/** The forward passes in the SIMD loops (C even, M > 0); the same values as {@linkcode trainJs}. */
function trainSimd(
  backend: WasmBackendLike,
  simd: BatchNormLoops,
  t: TrainTensors,
  eps: number,
  C: number,
  M: number,
): void {
  const work = scratch(backend, C);
  if (work === null) {
    return trainJs(backend, t, eps, C, M);
  }
  const [info, K, S1, S2] = work;
  const { X, Y, G, B, MU, VAR } = trainViews(backend, t);
  const n = M * C;
  for (let c = 0; c < C; c++) K[c] = X[c];
  S1.fill(0);
  S2.fill(0);
  simd.stats(X.byteOffset, n, C, K.byteOffset, S1.byteOffset, S2.byteOffset);
  // scale into K, shift into S1 (each read before it is written).
  const stats = { mean: MU, variance: VAR, scale: K, shift: S1 };
  for (let c = 0; c < C; c++) {
    channelStats(
      stats,
      c,
      K[c],
      S1[c],
      S2[c],
      M,
      G[c],
      B[c],
      eps,
    );
  }
  simd.apply(X.byteOffset, Y.byteOffset, n, C, K.byteOffset, S1.byteOffset);
  backend.disposeData(info.dataId);
}

/**
 * `P2pBatchNormTrain`: inputs `x`, `gamma`, `beta`; attr `epsilon`; outputs
 * y (shape of x), μ and σ² (one value a channel). With inputs
 * `movingMean`, `movingVariance` and attr `momentum`, two more outputs: the
 * moving statistics updated as tfjs-layers does, `m − (m − μ)·(1 −
 * momentum)`, each operation rounded to float32 as tfjs's `Sub` and `Mul`
 * kernels round it.
 */
export function batchNormTrainHeap(args: BatchNormHeapArgs): TensorInfo[] {
  const {
    inputs: { x, gamma, beta, movingMean, movingVariance },
    backend,
    attrs,
  } = args;
  const eps = attrs.epsilon as number;
  const [C, M] = geometry("P2pBatchNormTrain", x, gamma);
  const out = backend.makeOutput([...x.shape], "float32");
  const outMean = backend.makeOutput([C], "float32");
  const outVar = backend.makeOutput([C], "float32");
  const simd = simdFor(backend, C, M);
  const t = { x, gamma, beta, out, outMean, outVar };
  if (simd !== null) trainSimd(backend, simd, t, eps, C, M);
  else trainJs(backend, t, eps, C, M);
  if (movingMean === undefined || movingVariance === undefined) {
    return [out, outMean, outVar];
  }
  const outMovingMean = backend.makeOutput([C], "float32");
  const outMovingVar = backend.makeOutput([C], "float32");
  const decay = Math.fround(1 - (attrs.momentum as number));
  const update = (moving: TensorInfo, batch: TensorInfo, into: TensorInfo) => {
    const old = heapF32(backend, moving);
    const now = heapF32(backend, batch);
    const next = heapF32(backend, into);
    for (let c = 0; c < C; c++) {
      const delta = Math.fround(Math.fround(old[c] - now[c]) * decay);
      next[c] = old[c] - delta;
    }
  };
  update(movingMean, outMean, outMovingMean);
  update(movingVariance, outVar, outMovingVar);
  return [out, outMean, outVar, outMovingMean, outMovingVar];
}

/**
 * `P2pBatchNormTrainGrad`: inputs `dy`, `x`, `gamma`, `mean`, `variance`,
 * `dmean`, `dvariance`; attr `epsilon`; outputs dx, dγ and dβ.
 */
export function batchNormTrainGradHeap(args: BatchNormHeapArgs): TensorInfo[] {
  const {
    inputs: { dy, x, gamma, mean, variance, dmean, dvariance },
    backend,
    attrs,
  } = args;
  const eps = attrs.epsilon as number;
  const [C, M] = geometry("P2pBatchNormTrainGrad", x, gamma);
  const outDx = backend.makeOutput([...x.shape], "float32");
  const outDg = backend.makeOutput([C], "float32");
  const outDb = backend.makeOutput([C], "float32");
  const simd = simdFor(backend, C, M);
  const work = simd !== null ? scratch(backend, C) : null;
  const DY = heapF32(backend, dy);
  const X = heapF32(backend, x);
  const G = heapF32(backend, gamma);
  const MU = heapF32(backend, mean);
  const VAR = heapF32(backend, variance);
  const DMU = heapF32(backend, dmean);
  const DVAR = heapF32(backend, dvariance);
  const DX = heapF32(backend, outDx);
  const DG = heapF32(backend, outDg);
  const DB = heapF32(backend, outDb);
  const n = M * C;
  // dx = a·dy + b·x + d per channel.
  const a = work?.[1] ?? new Float64Array(C);
  const b = work?.[2] ?? new Float64Array(C);
  const d = work?.[3] ?? new Float64Array(C);
  if (simd !== null && work !== null) {
    // Sums into a (μ in), b and d, then the coefficients over them.
    for (let c = 0; c < C; c++) a[c] = MU[c];
    b.fill(0);
    d.fill(0);
    simd.grad_sums(
      DY.byteOffset,
      X.byteOffset,
      n,
      C,
      a.byteOffset,
      b.byteOffset,
      d.byteOffset,
    );
  } else {
    for (let c = 0; c < C; c++) {
      const mu = MU[c];
      let sdy = 0;
      let sdyx = 0;
      for (let i = c; i < n; i += C) {
        const g = DY[i];
        sdy += g;
        sdyx += g * (X[i] - mu);
      }
      b[c] = sdy;
      d[c] = sdyx;
    }
  }
  for (let c = 0; c < C; c++) {
    const mu = MU[c];
    const sdy = b[c];
    const sdyx = d[c];
    const invstd = 1 / Math.sqrt(VAR[c] + eps);
    const dGamma = sdyx * invstd;
    DB[c] = sdy;
    DG[c] = dGamma;
    a[c] = G[c] * invstd;
    b[c] = -a[c] * invstd * dGamma / M + 2 * DVAR[c] / M;
    d[c] = -a[c] * sdy / M + DMU[c] / M - b[c] * mu;
  }
  if (simd !== null && work !== null) {
    simd.grad_apply(
      DY.byteOffset,
      X.byteOffset,
      DX.byteOffset,
      n,
      C,
      a.byteOffset,
      b.byteOffset,
      d.byteOffset,
    );
    backend.disposeData(work[0].dataId);
  } else {
    for (let i = 0, c = 0; i < n; i++) {
      DX[i] = a[c] * DY[i] + b[c] * X[i] + d[c];
      if (++c === C) c = 0;
    }
  }
  return [outDx, outDg, outDb];
}
