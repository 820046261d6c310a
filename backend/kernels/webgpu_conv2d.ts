/**
 * `Conv2D` and `FusedConv2D` (bias, linear / relu / leaky-relu) for the tfjs
 * WebGPU backend as a tiled matrix product in WGSL, with workgroup memory
 * and split-K.
 *
 * A channels-last convolution is one matrix product over an implicit im2col:
 *
 * ```text
 * y[m, n] = Σ_k A[m, k] · B[k, n]
 *   m = (b · outH + oy) · outW + ox        (M = batch · outH · outW rows)
 *   n = output channel                     (N = outC columns)
 *   k = (kh · fw + kw) · inC + c           (K = fh · fw · inC)
 *   A[m, k] = x[b, oy · sh − padT + kh, ox · sw − padL + kw, c]  (0 outside)
 *   B[k, n] = W[kh, kw, c, n]              (the filter as it is stored)
 * ```
 *
 * so `y`'s flat layout is `m · N + n`. The deep layers of a U-Net have few
 * output pixels (`M` = 1 to 16) and a long `K` (4 096), a PatchGAN's last
 * layer one channel (`N` = 1): tfjs-webgpu's product runs them on a handful
 * of workgroups, each invocation looping over all of `K`. Here they run as
 * partial products that a second program sums, adding the bias and the
 * activation: for at most 4 pixels or channels one invocation per filter
 * tap, pixel and channel that loops over the input channels (no workgroup
 * memory, no barriers); for up to 16 pixels a tiled product
 * (`webgpu_program.ts`'s tiles and 4 × 4 accumulators) with `K` split over
 * the third dispatch dimension. Larger outputs, channels-first layouts,
 * dilations, PReLU and other activations go to the stock kernel
 * ({@linkcode convPath}). On request ({@linkcode setConvPath}) the
 * convolution runs as explicit patches on tfjs-webgpu's `_FusedMatMul`
 * (as fast as the stock kernel on llvmpipe at the pix2pix layers).
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
  tiledProductWgsl,
  type TileShape,
  tileShape,
  type WebGpuBackendLike,
  type WebGpuProgram,
} from "./webgpu_program.ts";
import { runPatches } from "./webgpu_patches.ts";
import {
  registerProduct,
  registerProductsEnabled,
} from "./webgpu_register_product.ts";

/** Fewest `K` values one split sums (smaller splits cost more than they save). */
const MIN_K_PER_SPLIT = 256;
/** Workgroups a split product aims for (llvmpipe's threads, a GPU's cores). */
const TARGET_WORKGROUPS = 128;

/** Activations done in the kernel. */
type Activation = "linear" | "relu" | "leakyrelu";

/** WGSL applying `activation` to `v` (a `var`), leaky-relu's slope in `uniforms.alpha`. */
function activationWgsl(activation: Activation): string {
  switch (activation) {
    case "relu":
      return "v = max(v, 0.0);";
    case "leakyrelu":
      return "v = select(v * uniforms.alpha, v, v >= 0.0);";
    default:
      return "";
  }
}

/**
 * The tile for an `m × n` output: `webgpu_program.ts`'s for `n` columns,
 * or 16 rows × 256 columns where there are at most 16 rows and at least
 * 128 columns (the innermost layers), so that few rows are not mostly
 * padding.
 */
export function convTile(m: number, n: number): TileShape {
  if (m <= 16 && n >= 128) return { wgx: 64, tileM: 16, tileN: 256 };
  return tileShape(n);
}

/** How `K` is split: `splits` products of `kPerSplit` (a multiple of the tile depth). */
export function convSplitK(
  m: number,
  n: number,
  k: number,
): { splits: number; kPerSplit: number } {
  const tile = convTile(m, n);
  const tiles = Math.ceil(m / tile.tileM) * Math.ceil(n / tile.tileN);
  const most = Math.max(1, Math.floor(k / MIN_K_PER_SPLIT));
  const wanted = Math.min(
    most,
    Math.max(1, Math.ceil(TARGET_WORKGROUPS / tiles)),
  );
  const kPerSplit = Math.ceil(Math.ceil(k / wanted) / TILE_K) * TILE_K;
  return { splits: Math.ceil(k / kPerSplit), kPerSplit };
}

/** The convolution (or, split, one partial product of it): a tiled `A · B`. */
class ConvProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms =
    `M : i32, N : i32, K : i32, kPerSplit : i32, tilesPerSplit : i32, ${CONV_GEOMETRY_UNIFORMS} alpha : f32,`;
  workgroupSize: [number, number, number];
  private readonly tile: TileShape;
  /** Whether this program writes the final output (bias and activation added). */
  private readonly final: boolean;
  private readonly bias: boolean;
  private readonly activation: Activation;

  constructor(
    outputShape: number[],
    tile: TileShape,
    m: number,
    n: number,
    splits: number,
    bias: boolean,
    activation: Activation,
  ) {
    this.outputShape = outputShape;
    this.dispatchLayout = outputShape.length === 3
      ? { x: [2], y: [1], z: [0] }
      : { x: [3], y: [0, 1, 2] };
    this.tile = tile;
    this.workgroupSize = [tile.wgx, THREADS / tile.wgx, 1];
    this.dispatch = [
      Math.ceil(n / tile.tileN),
      Math.ceil(m / tile.tileM),
      splits,
    ];
    this.final = splits === 1;
    this.bias = bias && this.final;
    this.activation = this.final ? activation : "linear";
    this.variableNames = this.bias ? ["x", "W", "bias"] : ["x", "W"];
    this.shaderKey = `p2pConv2DMM_${tile.wgx}_${this.bias}_${this.activation}`;
  }

  getUserCode(): string {
    const WG = this.tile.wgx;
    const TILE_N = this.tile.tileN;
    const TILE_M = this.tile.tileM;
    const tiled = tiledProductWgsl(WG);
    const splitK = splitKProductWgsl(WG, "W");
    const store = splitK.store([
      "var v = acc[i][j];",
      this.bias ? "v += bias[n];" : "",
      activationWgsl(this.activation),
      "result[base + m * uniforms.N + n] = v;",
    ]);
    return /* wgsl */ `${tiled.memory}
// Per K value of the slice: its filter row and column and channel, computed
// once per slice by ${TILE_K} invocations (integer division is slow on SIMD:
// llvmpipe scalarises it).
var<workgroup> sliceKh : array<i32, ${TILE_K}>;
var<workgroup> sliceKw : array<i32, ${TILE_K}>;
var<workgroup> sliceC : array<i32, ${TILE_K}>;

fn main() {${tiled.start}${splitK.range}
  // This invocation always gathers row mm = flat % ${TILE_M} of A: its output pixel.
  let mA = m0 + flat % ${TILE_M};
  let ox = mA % uniforms.outW;
  let row = mA / uniforms.outW;
  let oy = row % uniforms.outH;
  let b = row / uniforms.outH;
  // Rows past M read nothing.
  let iy0 = select(-1073741824, oy * uniforms.strideH - uniforms.padT, mA < uniforms.M);
  let ix0 = ox * uniforms.strideW - uniforms.padL;
  let baseA = b * uniforms.inH * uniforms.inW * uniforms.inC;
  let nB = n0 + flat % ${TILE_N};
  // The trip count is a uniform so that the barriers sit in uniform control flow.
  for (var t = 0; t < uniforms.tilesPerSplit; t++) {
    let k0 = kStart + t * ${TILE_K};
    if (flat < ${TILE_K}) {
      let k = k0 + flat;
      let c = k % uniforms.inC;
      let tap = k / uniforms.inC;
      sliceKh[flat] = select(1073741824, tap / uniforms.fw, k < kEnd);
      sliceKw[flat] = tap % uniforms.fw;
      sliceC[flat] = c;
    }
    workgroupBarrier();
    for (var r = 0; r < ${(TILE_M * TILE_K) / THREADS}; r++) {
      let kk = flat / ${TILE_M} + r * ${THREADS / TILE_M};
      let iy = iy0 + sliceKh[kk];
      let ix = ix0 + sliceKw[kk];
      var v = 0.0;
      if (iy >= 0 && iy < uniforms.inH && ix >= 0 && ix < uniforms.inW) {
        v = x[baseA + (iy * uniforms.inW + ix) * uniforms.inC + sliceC[kk]];
      }
      tileA[kk][flat % ${TILE_M}] = v;
    }
${splitK.loadB}
    workgroupBarrier();
${tiled.accumulate}
    workgroupBarrier();
  }
${store}
}
`;
  }
}

/**
 * The convolution's partial products per filter tap, `[taps, M, N]`, one
 * invocation per tap, output pixel and channel looping over the input
 * channels: no workgroup memory and no barriers, for outputs too small to
 * fill a tile (few pixels, or few channels).
 */
class DirectConvProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey = "p2pConv2DDirect";
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ["x", "W"];
  uniforms = `M : i32, N : i32, ${CONV_GEOMETRY_UNIFORMS}`;
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(taps: number, m: number, n: number) {
    this.outputShape = [taps, m, n];
    this.dispatchLayout = { x: [0, 1, 2] };
    this.dispatch = [Math.ceil((taps * m * n) / 64), 1, 1];
  }

  getUserCode(): string {
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    let n = index % uniforms.N;
    let mt = index / uniforms.N;
    let m = mt % uniforms.M;
    let tap = mt / uniforms.M;
    let ox = m % uniforms.outW;
    let row = m / uniforms.outW;
    let oy = row % uniforms.outH;
    let b = row / uniforms.outH;
    let iy = oy * uniforms.strideH - uniforms.padT + tap / uniforms.fw;
    let ix = ox * uniforms.strideW - uniforms.padL + tap % uniforms.fw;
    var v = 0.0;
    if (iy >= 0 && iy < uniforms.inH && ix >= 0 && ix < uniforms.inW) {
      let xBase = ((b * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC;
      let wBase = tap * uniforms.inC * uniforms.N + n;
      for (var c = 0; c < uniforms.inC; c++) {
        v = fma(x[xBase + c], W[wBase + c * uniforms.N], v);
      }
    }
    result[index] = v;
  }
}
`;
  }
}

/** Sums the split-K partial products `[splits, M·N]`, adds the bias, applies the activation. */
class SumSplitsProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = "splits : i32, N : i32, alpha : f32,";
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  private readonly bias: boolean;
  private readonly activation: Activation;

  constructor(outputShape: number[], bias: boolean, activation: Activation) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    const n = outputShape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(n / 64), 1, 1];
    this.bias = bias;
    this.activation = activation;
    this.variableNames = bias ? ["partials", "bias"] : ["partials"];
    this.shaderKey = `p2pConv2DSumSplits_${bias}_${activation}`;
  }

  getUserCode(): string {
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    var v = 0.0;
    for (var s = 0; s < uniforms.splits; s++) {
      v += partials[s * uniforms.size + index];
    }
    ${this.bias ? "v += bias[index % uniforms.N];" : ""}
    ${activationWgsl(this.activation)}
    result[index] = v;
  }
}
`;
  }
}

/** How a convolution runs: p2p's tiled or direct program, or tfjs-webgpu's. */
export type ConvPath = "tiled" | "direct" | "matmul" | "registers" | "stock";

/**
 * The path for an `m × n` output, from timings on llvmpipe: the direct
 * program for at most 4 output pixels or 4 channels (a U-Net's two innermost
 * layers, a PatchGAN's last: 3–4× faster than the stock kernel), the tiled
 * split-K one for at most 16 pixels (its third innermost: 1.3×), else the
 * stock kernel (tfjs-webgpu's tiled product, faster than p2p's there).
 * Where {@linkcode registerProductsEnabled} (software adapters), the
 * patches and p2p's register-tiled product past 2 pixels and 4 channels
 * (at 4 pixels 1.25× the direct program, at 1 pixel slower).
 */
export function convPath(m: number, n: number): ConvPath {
  if (registerProductsEnabled()) {
    return m <= 2 || n <= 4 ? "direct" : "registers";
  }
  if (m <= 4 || n <= 4) return "direct";
  return m <= 16 ? "tiled" : "stock";
}

let forcedPath: ConvPath | undefined;

/** Forces one path for every shape (tests, benchmarks), or `undefined` for {@linkcode convPath}'s. */
export function setConvPath(path: ConvPath | undefined): void {
  forcedPath = path;
}

/** Inputs of `Conv2D` / `FusedConv2D`. */
export interface Conv2DInputs {
  /** The input, `[batch, inH, inW, inC]`. */
  x: tf.TensorInfo;
  /** The filter, `[fh, fw, inC, outC]`. */
  filter: tf.TensorInfo;
  /** `FusedConv2D`'s bias, `[outC]` (or a scalar). */
  bias?: tf.TensorInfo;
  /** `FusedConv2D`'s PReLU weights (not handled here: the stock kernel runs). */
  preluActivationWeights?: tf.TensorInfo;
}

/** Attributes of `Conv2D` / `FusedConv2D`. */
export interface Conv2DKernelAttrs {
  /** Strides `[sh, sw]` or one for both. */
  strides: number | [number, number];
  /** Padding. */
  pad: "same" | "valid" | number | tf.backend_util.ExplicitPadding;
  /** `NHWC` or `NCHW`. */
  dataFormat: "NHWC" | "NCHW";
  /** Dilations (only 1 is handled here). */
  dilations: number | [number, number];
  /** Rounding of output sizes with numeric padding. */
  dimRoundingMode?: "floor" | "round" | "ceil";
  /** `FusedConv2D`'s activation (`linear` for `Conv2D`). */
  activation?: string;
  /** `FusedConv2D`'s leaky-relu slope. */
  leakyreluAlpha?: number;
}

/**
 * The WebGPU `Conv2D` / `FusedConv2D` kernel function (channels-last
 * float32, no dilation, bias of `outC` or none, linear / relu / leaky-relu;
 * anything else goes to `fallback`, tfjs-webgpu's stock kernel).
 */
export function conv2DWebGpu(
  args: {
    inputs: Conv2DInputs;
    backend: WebGpuBackendLike;
    attrs: Conv2DKernelAttrs;
  },
  fallback?: tf.KernelFunc,
): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, filter, bias, preluActivationWeights } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
  const activation = attrs.activation ?? "linear";
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  const outC = filter.shape[3];
  const dilated = [dilations ?? 1].flat().some((d) => d !== 1);
  const handled = format === "channelsLast" && x.dtype === "float32" &&
    filter.dtype === "float32" && !dilated &&
    preluActivationWeights == null &&
    (activation === "linear" || activation === "relu" ||
      activation === "leakyrelu") &&
    (bias == null ||
      (bias.dtype === "float32" && bias.shape.length === 1 &&
        bias.shape[0] === outC));
  if (!handled) {
    if (!fallback) {
      throw new Error(
        `p2p WebGPU Conv2D: only channels-last float32 without dilation, with an [outC] bias and a linear, relu or leakyrelu activation is supported, received ${dataFormat} ${x.dtype} dilations ${dilations} activation ${activation}`,
      );
    }
    return runFallback(fallback, args);
  }
  const info = channelsLastConv2DInfo(
    x.shape,
    filter.shape,
    strides,
    pad,
    dimRoundingMode,
  );
  const m = info.batchSize * info.outHeight * info.outWidth;
  const n = info.outChannels;
  const call: ConvCall = {
    backend,
    x,
    filter,
    bias: bias ?? null,
    info,
    m,
    n,
    k: info.filterHeight * info.filterWidth * info.inChannels,
    shape: [info.batchSize, info.outHeight, info.outWidth, n],
    act: activation as Activation,
    alpha: attrs.leakyreluAlpha ?? 0.2,
  };
  const path = forcedPath ?? convPath(m, n);
  if (path === "stock" && fallback) return runFallback(fallback, args);
  if (path === "registers") return registerConv(call);
  const fusedMatMul = getKernel("_FusedMatMul", "webgpu");
  if (path === "matmul" && fusedMatMul) return matmulConv(call, fusedMatMul);
  if (path === "direct") return directConv(call);
  return tiledConv(call);
}

/** One convolution p2p computes: its operands, geometry and epilogue. */
interface ConvCall {
  backend: WebGpuBackendLike;
  x: tf.TensorInfo;
  filter: tf.TensorInfo;
  bias: tf.TensorInfo | null;
  info: backend_util.Conv2DInfo;
  /** Output pixels of the batch. */
  m: number;
  /** Output channels. */
  n: number;
  /** Multiply-adds an output. */
  k: number;
  shape: number[];
  act: Activation;
  alpha: number;
}

/** The patches of `x`, then tfjs-webgpu's fused matrix product. */
function matmulConv(c: ConvCall, fusedMatMul: tf.KernelConfig): tf.TensorInfo {
  const patches = runPatches(c.backend, c.x, c.info);
  const product = fusedMatMul.kernelFunc({
    inputs: {
      a: patches,
      b: { ...c.filter, shape: [1, c.k, c.n] },
      ...(c.bias != null ? { bias: c.bias } : {}),
    },
    backend: c.backend as unknown as tf.KernelBackend,
    attrs: {
      transposeA: false,
      transposeB: false,
      activation: c.act,
      leakyreluAlpha: c.alpha,
    },
  }) as tf.TensorInfo;
  c.backend.disposeData(patches.dataId);
  return { ...product, shape: c.shape };
}

/** The patches of `x`, then p2p's register-tiled product (bias and activation included). */
function registerConv(c: ConvCall): tf.TensorInfo {
  const patches = runPatches(c.backend, c.x, c.info);
  const product = registerProduct(c.backend, patches, c.filter, c, {
    bias: c.bias,
    activation: c.act,
    alpha: c.alpha,
  });
  c.backend.disposeData(patches.dataId);
  return { ...product, shape: c.shape };
}

/** One partial product a filter tap, then their sum. */
function directConv(c: ConvCall): tf.TensorInfo {
  const taps = c.info.filterHeight * c.info.filterWidth;
  const partials = c.backend.runWebGPUProgram(
    new DirectConvProgram(taps, c.m, c.n),
    [c.x, c.filter],
    "float32",
    [c.m, c.n, ...convGeometry(c.info)].map(int32Uniform),
  );
  return sumPartials(c, partials, taps);
}

/** The tiled product, split over `K` where the tiles are few. */
function tiledConv(c: ConvCall): tf.TensorInfo {
  const { m, n, k, bias } = c;
  const { splits, kPerSplit } = convSplitK(m, n, k);
  const uniforms = [
    ...[m, n, k, kPerSplit, kPerSplit / TILE_K, ...convGeometry(c.info)]
      .map(int32Uniform),
    { type: "float32", data: [c.alpha] },
  ];
  const program = new ConvProgram(
    splits === 1 ? c.shape : [splits, m, n],
    convTile(m, n),
    m,
    n,
    splits,
    bias != null,
    c.act,
  );
  const product = c.backend.runWebGPUProgram(
    program,
    bias != null && splits === 1 ? [c.x, c.filter, bias] : [c.x, c.filter],
    "float32",
    uniforms,
  );
  if (splits === 1) return product;
  return sumPartials(c, product, splits);
}

/**
 * Sums `count` partial products `[count, m, n]` into the output (adding the
 * bias, applying the activation) and frees them.
 */
function sumPartials(
  c: ConvCall,
  partials: tf.TensorInfo,
  count: number,
): tf.TensorInfo {
  const out = c.backend.runWebGPUProgram(
    new SumSplitsProgram(c.shape, c.bias != null, c.act),
    c.bias != null ? [partials, c.bias] : [partials],
    "float32",
    [
      int32Uniform(count),
      int32Uniform(c.n),
      { type: "float32", data: [c.alpha] },
    ],
  );
  c.backend.disposeData(partials.dataId);
  return out;
}
