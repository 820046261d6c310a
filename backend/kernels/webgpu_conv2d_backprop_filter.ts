/**
 * `Conv2DBackpropFilter` for the tfjs WebGPU backend as one matrix product:
 * the patches of `x` gathered by a WGSL program, then tfjs-webgpu's own
 * `BatchMatMul` (its tuned tiled, split-K and small-output programs), or
 * p2p's tiled product in WGSL with workgroup memory and split-K.
 *
 * The filter gradient of a channels-last convolution is one matrix product:
 *
 * ```text
 * dW[m, n] = Σ_k A[m, k] · B[k, n]
 *   m = (kh · fw + kw) · inC + c          (M = fh · fw · inC rows)
 *   n = output channel                     (N = outC columns)
 *   k = (b · outH + oy) · outW + ox        (K = batch · outH · outW)
 *   A[m, k] = x[b, oy · sh − padT + kh, ox · sw − padL + kw, c]  (0 outside)
 *   B[k, n] = dy[b, oy, ox, n]             (dy as it is stored)
 * ```
 *
 * so `dW`'s flat layout `[fh, fw, inC, outC]` is `m · N + n`. Each workgroup
 * of 16 × 16 invocations computes a 64 × 64 tile of `dW` from 16-deep slices
 * of `A` (gathered from `x` on the fly: an implicit im2col) and `B` staged in
 * workgroup memory; each invocation accumulates a 4 × 4 block. `K` is large
 * where `M · N` is small (the first layers: `K` = every pixel of the batch,
 * `M · N` a few thousand), so `K` is split over the third dispatch dimension
 * into partial products that a second program sums. The stock program gives
 * each output weight one invocation that loops over every pixel of the batch;
 * it stays in use for fewer than 8 output channels (a 64-wide tile of them
 * would be mostly padding) and for channels-first layouts.
 *
 * By default the product runs on tfjs-webgpu's `BatchMatMul` over the
 * explicit patches `P[k, m] = A[m, k]` (`dW = Pᵀ · B`): on llvmpipe it is
 * 1.3–1.8× faster than the tiled program here at every layer of the
 * pix2pix networks, the gather costing one pass over `K · M` values
 * ({@linkcode setFilterGradPath} picks the tiled one).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { backend_util, getKernel } from "@tensorflow/tfjs";
import {
  channelsLastConv2DInfo,
  CONV_GEOMETRY_UNIFORMS,
  convGeometry,
  int32Uniform,
  runFallback,
  splitKProductWgsl,
  THREADS,
  TILE_K,
  tiledLaunch,
  tiledProductWgsl,
  tileShape,
  type WebGpuBackendLike,
  type WebGpuProgram,
} from "./webgpu_program.ts";
import { runPatches } from "./webgpu_patches.ts";
import {
  registerProduct,
  registerProductsEnabled,
} from "./webgpu_register_product.ts";

export type { WebGpuBackendLike, WebGpuProgram } from "./webgpu_program.ts";

/**
 * Fewer output channels than this go to the stock kernel: a 64-wide tile of
 * them would be mostly padding (the PatchGAN's last layer has one).
 */
const MIN_N = 8;
/** Fewest `K` values one split sums (smaller splits cost more than they save). */
const MIN_K_PER_SPLIT = 256;

/** The partial (or, unsplit, the whole) filter gradient: a tiled `A · B`. */
class FilterGradProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey = "p2pConv2DBackpropFilterMM";
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  variableNames = ["x", "dy"];
  uniforms =
    `M : i32, N : i32, K : i32, kPerSplit : i32, tilesPerSplit : i32, ${CONV_GEOMETRY_UNIFORMS}`;
  workgroupSize: [number, number, number];
  private readonly wgx: number;

  constructor(outputShape: number[], m: number, n: number, splits: number) {
    this.outputShape = outputShape;
    this.dispatchLayout = outputShape.length === 3
      ? { x: [2], y: [1], z: [0] }
      : { x: [3], y: [0, 1, 2] };
    const launch = tiledLaunch(m, n, splits);
    this.wgx = launch.tile.wgx;
    this.workgroupSize = launch.workgroupSize;
    this.shaderKey += launch.tile.wgx;
    this.dispatch = launch.dispatch;
  }

  getUserCode(): string {
    const WG = this.wgx;
    const WGY = THREADS / WG;
    const TILE_N = WG * 4;
    const TILE_M = WGY * 4;
    const tiled = tiledProductWgsl(WG);
    const splitK = splitKProductWgsl(WG, "dy");
    return /* wgsl */ `${tiled.memory}
// Per K value of the slice: where its output pixel's receptive field starts
// in x (row, column, and the batch image's offset). Computed once per slice
// by ${TILE_K} invocations: integer division is slow on SIMD (llvmpipe
// scalarises it), so the gather below needs none.
var<workgroup> sliceY : array<i32, ${TILE_K}>;
var<workgroup> sliceX : array<i32, ${TILE_K}>;
var<workgroup> sliceBase : array<i32, ${TILE_K}>;

fn main() {${tiled.start}${splitK.range}
  // This invocation always gathers row mm = flat % ${TILE_M} of A: its filter tap and channel.
  let mA = m0 + flat % ${TILE_M};
  let c = mA % uniforms.inC;
  let tap = mA / uniforms.inC;
  let kw = tap % uniforms.fw;
  let kh = tap / uniforms.fw;
  let offA = (kh * uniforms.inW + kw) * uniforms.inC + c;
  let nB = n0 + flat % ${TILE_N};
  // The trip count is a uniform so that the barriers sit in uniform control flow.
  for (var t = 0; t < uniforms.tilesPerSplit; t++) {
    let k0 = kStart + t * ${TILE_K};
    if (flat < ${TILE_K}) {
      let k = k0 + flat;
      let ox = k % uniforms.outW;
      let row = k / uniforms.outW;
      let oy = row % uniforms.outH;
      let b = row / uniforms.outH;
      sliceY[flat] = select(-1073741824, oy * uniforms.strideH - uniforms.padT, k < kEnd);
      sliceX[flat] = ox * uniforms.strideW - uniforms.padL;
      sliceBase[flat] = b * uniforms.inH * uniforms.inW * uniforms.inC;
    }
    workgroupBarrier();
    for (var r = 0; r < ${(TILE_M * TILE_K) / THREADS}; r++) {
      let kk = flat / ${TILE_M} + r * ${THREADS / TILE_M};
      let iy = sliceY[kk] + kh;
      let ix = sliceX[kk] + kw;
      var v = 0.0;
      if (mA < uniforms.M && iy >= 0 && iy < uniforms.inH && ix >= 0 && ix < uniforms.inW) {
        v = x[sliceBase[kk] + (sliceY[kk] * uniforms.inW + sliceX[kk]) * uniforms.inC + offA];
      }
      tileA[kk][flat % ${TILE_M}] = v;
    }
${splitK.loadB}
    workgroupBarrier();
${tiled.accumulate}
    workgroupBarrier();
  }
${splitK.store(["result[base + m * uniforms.N + n] = acc[i][j];"])}
}
`;
  }
}

/**
 * The filter gradient for a short `K` (the innermost layers: `K` = 1 to 4
 * output pixels of the batch), one invocation per filter tap, input channel
 * and four output channels (one where `N` is not a multiple of 4) looping
 * over `K`: no patches to gather and no matrix product whose tiles would be
 * mostly padding.
 */
class DirectFilterGradProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey = "p2pConv2DBackpropFilterDirect";
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ["x", "dy"];
  uniforms = `M : i32, N : i32, K : i32, ${CONV_GEOMETRY_UNIFORMS}`;
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  /** Output channels an invocation computes: 4 (`vec4<f32>` `dy` and `dW`) where they divide `N`. */
  outputComponent: number;
  /** `x` as scalars, `dy` as the output. */
  variableComponents: number[];

  constructor(outputShape: number[], m: number, n: number) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.outputComponent = n % 4 === 0 ? 4 : 1;
    this.variableComponents = [1, this.outputComponent];
    this.shaderKey += this.outputComponent;
    this.dispatch = [Math.ceil((m * n) / this.outputComponent / 64), 1, 1];
  }

  getUserCode(): string {
    const v = this.outputComponent;
    const zero = v === 4 ? "vec4<f32>(0.0)" : "0.0";
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    let nv = uniforms.N / ${v};
    let n4 = index % nv;
    let m = index / nv;
    let c = m % uniforms.inC;
    let tap = m / uniforms.inC;
    let kw = tap % uniforms.fw;
    let kh = tap / uniforms.fw;
    var acc = ${zero};
    for (var k = 0; k < uniforms.K; k++) {
      let ox = k % uniforms.outW;
      let row = k / uniforms.outW;
      let oy = row % uniforms.outH;
      let b = row / uniforms.outH;
      let iy = oy * uniforms.strideH - uniforms.padT + kh;
      let ix = ox * uniforms.strideW - uniforms.padL + kw;
      if (iy >= 0 && iy < uniforms.inH && ix >= 0 && ix < uniforms.inW) {
        let i = ((b * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + c;
        acc = fma(${zero} + x[i], dy[k * nv + n4], acc);
      }
    }
    result[index] = acc;
  }
}
`;
  }
}

/** Sums the split-K partial products `[splits, M·N]` into `dW`. */
class SumSplitsProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey = "p2pSumSplits";
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ["partials"];
  uniforms = "splits : i32,";
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    const n = outputShape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(n / 64), 1, 1];
  }

  getUserCode(): string {
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    var sum = 0.0;
    for (var s = 0; s < uniforms.splits; s++) {
      sum += partials[s * uniforms.size + index];
    }
    result[index] = sum;
  }
}
`;
  }
}

/**
 * How a filter gradient runs: p2p's tiled product, patches and tfjs-webgpu's
 * matrix product, patches and p2p's register-tiled product (software
 * adapters), or p2p's direct program (short `K`).
 */
export type FilterGradPath = "tiled" | "matmul" | "direct" | "registers";

/** Most `K` (output pixels of the batch) the direct program takes by default. */
export const DIRECT_MAX_K = 4;

let forcedFilterPath: FilterGradPath | undefined;

/**
 * Forces one path (tests, benchmarks), or `undefined` for the default:
 * `registers` where {@linkcode registerProductsEnabled} (at a U-Net's
 * innermost layers too: 16 rows an invocation load far less than the
 * direct program), else `direct` for `K` ≤ {@linkcode DIRECT_MAX_K}, else
 * `matmul`.
 */
export function setFilterGradPath(path: FilterGradPath | undefined): void {
  forcedFilterPath = path;
}

/** How `K` is split: `splits` programs of `kPerSplit` (a multiple of the tile depth). */
export function splitK(
  m: number,
  n: number,
  k: number,
  targetWorkgroups = 128,
): { splits: number; kPerSplit: number } {
  const tile = tileShape(n);
  const tiles = Math.ceil(m / tile.tileM) * Math.ceil(n / tile.tileN);
  const most = Math.max(1, Math.floor(k / MIN_K_PER_SPLIT));
  const wanted = Math.min(
    most,
    Math.max(1, Math.ceil(targetWorkgroups / tiles)),
  );
  const kPerSplit = Math.ceil(Math.ceil(k / wanted) / TILE_K) * TILE_K;
  return { splits: Math.ceil(k / kPerSplit), kPerSplit };
}

/** Inputs of `Conv2DBackpropFilter`. */
export interface Conv2DBackpropFilterInputs {
  /** The convolution's input, `[batch, inH, inW, inC]`. */
  x: tf.TensorInfo;
  /** Gradient of its output, `[batch, outH, outW, outC]`. */
  dy: tf.TensorInfo;
}

/**
 * The WebGPU `Conv2DBackpropFilter` kernel function (channels-last; other
 * layouts go to `fallback`, tfjs-webgpu's stock kernel).
 */
export function conv2DBackpropFilterWebGpu(
  args: {
    inputs: Conv2DBackpropFilterInputs;
    backend: WebGpuBackendLike;
    attrs: tf.Conv2DBackpropFilterAttrs;
  },
  fallback?: tf.KernelFunc,
): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  const outC = (filterShape as number[])[3];
  if (fallback && outC < MIN_N) {
    return runFallback(fallback, args);
  }
  if (format !== "channelsLast" || x.dtype !== "float32") {
    if (!fallback) {
      throw new Error(
        `p2p WebGPU Conv2DBackpropFilter: only channels-last float32 is supported, received ${dataFormat} ${x.dtype}`,
      );
    }
    return runFallback(fallback, args);
  }
  const info = channelsLastConv2DInfo(
    x.shape,
    filterShape,
    strides,
    pad,
    dimRoundingMode,
  );
  const expected = [
    info.batchSize,
    info.outHeight,
    info.outWidth,
    info.outChannels,
  ];
  if (dy.shape.join(",") !== expected.join(",")) {
    throw new Error(
      `p2p WebGPU Conv2DBackpropFilter: dy must have shape [${expected}] for x [${x.shape}] and filter [${filterShape}], received [${dy.shape}]`,
    );
  }
  const m = info.filterHeight * info.filterWidth * info.inChannels;
  const n = info.outChannels;
  const k = info.batchSize * info.outHeight * info.outWidth;
  const path = forcedFilterPath ??
    (registerProductsEnabled()
      ? "registers"
      : k <= DIRECT_MAX_K
      ? "direct"
      : "matmul");
  if (path === "direct") {
    return backend.runWebGPUProgram(
      new DirectFilterGradProgram([...filterShape], m, n),
      [x, dy],
      "float32",
      [
        m,
        n,
        k,
        ...convGeometry(info),
      ].map(int32Uniform),
    );
  }
  if (path === "registers") return registerFilterGrad(backend, x, dy, info);
  const matMul = getKernel("BatchMatMul", "webgpu");
  if (path === "matmul" && matMul) {
    return patchesFilterGrad(backend, x, dy, info, matMul);
  }
  return tiledFilterGrad(backend, x, dy, info);
}

/** `dW = patches(x)ᵀ · dy` on tfjs-webgpu's matrix product. */
function patchesFilterGrad(
  backend: WebGpuBackendLike,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
  matMul: tf.KernelConfig,
): tf.TensorInfo {
  const k = info.batchSize * info.outHeight * info.outWidth;
  const patches = runPatches(backend, x, info);
  const product = matMul.kernelFunc({
    inputs: { a: patches, b: { ...dy, shape: [1, k, info.outChannels] } },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { transposeA: true, transposeB: false },
  }) as tf.TensorInfo;
  backend.disposeData(patches.dataId);
  return { ...product, shape: [...info.filterShape] };
}

/** `dW = patches(x)ᵀ · dy` on p2p's register-tiled product. */
function registerFilterGrad(
  backend: WebGpuBackendLike,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
): tf.TensorInfo {
  const patches = runPatches(backend, x, info);
  const product = registerProduct(backend, patches, dy, {
    m: info.filterHeight * info.filterWidth * info.inChannels,
    n: info.outChannels,
    k: info.batchSize * info.outHeight * info.outWidth,
  }, { transposeA: true });
  backend.disposeData(patches.dataId);
  return { ...product, shape: [...info.filterShape] };
}

/** p2p's tiled product, split over `K` where the tiles are few. */
function tiledFilterGrad(
  backend: WebGpuBackendLike,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
): tf.TensorInfo {
  const m = info.filterHeight * info.filterWidth * info.inChannels;
  const n = info.outChannels;
  const k = info.batchSize * info.outHeight * info.outWidth;
  const { splits, kPerSplit } = splitK(m, n, k);
  const shape = [...info.filterShape];
  const program = new FilterGradProgram(
    splits === 1 ? shape : [splits, m, n],
    m,
    n,
    splits,
  );
  const uniforms = [
    m,
    n,
    k,
    kPerSplit,
    kPerSplit / TILE_K,
    ...convGeometry(info),
  ]
    .map(int32Uniform);
  const partial = backend.runWebGPUProgram(
    program,
    [x, dy],
    "float32",
    uniforms,
  );
  if (splits === 1) return partial;
  const out = backend.runWebGPUProgram(
    new SumSplitsProgram(shape),
    [partial],
    "float32",
    [int32Uniform(splits)],
  );
  backend.disposeData(partial.dataId);
  return out;
}
