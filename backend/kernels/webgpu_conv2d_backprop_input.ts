/**
 * `Conv2DBackpropInput` for the tfjs WebGPU backend: one tiled matrix product
 * in WGSL per sub-pixel phase, so a stride-2 convolution's input gradient
 * does no work on the zeros a dilated `dy` would hold.
 *
 * An input pixel `iy` receives from filter row `kh` only when
 * `iy + padT − kh` is a multiple of the stride `sh`, i.e. from the rows
 * `kh = py + j · sh` of its phase `py = (iy + padT) mod sh`. Writing the
 * phase's pixels as `iy = iy0 + sh · ty` (`iy0` the first one), the output
 * row they read is `oy = qy + ty − j` with `qy = (iy0 + padT − py) / sh`; the
 * same holds for columns. Per phase `(py, px)`, then:
 *
 * ```text
 * dx[b, iy0 + sh·ty, ix0 + sw·tx, n] = Σ_k A[m, k] · B[k, n]
 *   m = (b · TY + ty) · TX + tx                  (rows: the phase's pixels)
 *   k = (jh · JW + jw) · outC + co               (the phase's taps × outC)
 *   A[m, k] = dy[b, qy + ty − jh, qx + tx − jw, co]   (0 outside dy)
 *   B[k, n] = W[py + jh·sh, px + jw·sw, n, co]        (0 past the filter)
 * ```
 *
 * All phases run in one dispatch (its third dimension); each workgroup of
 * 16 × 16 invocations computes a 64 × 64 tile from 16-deep slices staged in
 * workgroup memory, 4 × 4 per invocation. tfjs-webgpu's stock program is a
 * matrix product over every filter tap, a quarter of which are non-zero at
 * stride 2.
 *
 * By default, though, the gradient runs as the columns `C = dy · Wᵀ`
 * (`[outPixels, fh·fw·inC]`, what each output pixel sends back through each
 * tap) on tfjs-webgpu's own `BatchMatMul`, which a col2im program then sums
 * into `dx`, one invocation per element over its phase's taps: no product
 * over zeros either, and tfjs's tuned product is faster on llvmpipe than the
 * per-phase one here ({@linkcode inputGradPath}).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { backend_util, getKernel } from "@tensorflow/tfjs";
import {
  channelsLastConv2DInfo,
  int32Uniform,
  runFallback,
  THREADS,
  TILE_K,
  tiledLaunch,
  tiledProductWgsl,
  type WebGpuBackendLike,
  type WebGpuProgram,
} from "./webgpu_program.ts";
import {
  registerProduct,
  registerProductsEnabled,
} from "./webgpu_register_product.ts";

class InputGradProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey = "p2pConv2DBackpropInputPhases";
  dispatchLayout = { x: [3], y: [0, 1, 2] };
  dispatch: [number, number, number];
  variableNames = ["dy", "W"];
  uniforms =
    "M : i32, N : i32, K : i32, kTiles : i32, batch : i32, TY : i32, TX : i32, JW : i32, inH : i32, inW : i32, outH : i32, outW : i32, outC : i32, fh : i32, fw : i32, strideH : i32, strideW : i32, padT : i32, padL : i32,";
  workgroupSize: [number, number, number];
  private readonly wgx: number;

  constructor(outputShape: number[], m: number, n: number, phases: number) {
    this.outputShape = outputShape;
    const launch = tiledLaunch(m, n, phases);
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
    return /* wgsl */ `${tiled.memory}
// Per row of the tile: its batch image's offset in dy, and qy + ty, qx + tx
// (the dy row and column its tap (0, 0) reads); computed once, by ${TILE_M}
// invocations, so the gathers need no integer division.
var<workgroup> rowBase : array<i32, ${TILE_M}>;
var<workgroup> rowY : array<i32, ${TILE_M}>;
var<workgroup> rowX : array<i32, ${TILE_M}>;
// Per K value of the slice: its tap (jh, jw), channel co, filter offset.
var<workgroup> sliceJh : array<i32, ${TILE_K}>;
var<workgroup> sliceJw : array<i32, ${TILE_K}>;
var<workgroup> sliceCo : array<i32, ${TILE_K}>;
var<workgroup> sliceW : array<i32, ${TILE_K}>;

fn main() {${tiled.start}
  let phase = i32(workgroupId.z);
  let py = phase / uniforms.strideW;
  let px = phase % uniforms.strideW;
  let iy0 = ((py - uniforms.padT) % uniforms.strideH + uniforms.strideH) % uniforms.strideH;
  let ix0 = ((px - uniforms.padL) % uniforms.strideW + uniforms.strideW) % uniforms.strideW;
  let qy = (iy0 + uniforms.padT - py) / uniforms.strideH;
  let qx = (ix0 + uniforms.padL - px) / uniforms.strideW;
  if (flat < ${TILE_M}) {
    let m = m0 + flat;
    let tX = m % uniforms.TX;
    let r = m / uniforms.TX;
    let tY = r % uniforms.TY;
    let b = r / uniforms.TY;
    // Rows past M, or whose pixel is past the input, read nothing.
    let inside = m < uniforms.M && iy0 + uniforms.strideH * tY < uniforms.inH &&
      ix0 + uniforms.strideW * tX < uniforms.inW;
    rowBase[flat] = b * uniforms.outH * uniforms.outW * uniforms.outC;
    rowY[flat] = select(-1073741824, qy + tY, inside);
    rowX[flat] = qx + tX;
  }
  let mmA = flat % ${TILE_M};
  let nB = n0 + flat % ${TILE_N};
  for (var t = 0; t < uniforms.kTiles; t++) {
    let k0 = t * ${TILE_K};
    if (flat < ${TILE_K}) {
      let k = k0 + flat;
      let co = k % uniforms.outC;
      let tap = k / uniforms.outC;
      let jw = tap % uniforms.JW;
      let jh = tap / uniforms.JW;
      let kh = py + jh * uniforms.strideH;
      let kw = px + jw * uniforms.strideW;
      let valid = k < uniforms.K && kh < uniforms.fh && kw < uniforms.fw;
      sliceJh[flat] = select(1073741824, jh, valid);
      sliceJw[flat] = jw;
      sliceCo[flat] = co;
      sliceW[flat] = select(-1, (kh * uniforms.fw + kw) * uniforms.N * uniforms.outC + co, valid);
    }
    workgroupBarrier();
    for (var r = 0; r < ${(TILE_M * TILE_K) / THREADS}; r++) {
      let kk = flat / ${TILE_M} + r * ${THREADS / TILE_M};
      let oy = rowY[mmA] - sliceJh[kk];
      let ox = rowX[mmA] - sliceJw[kk];
      var v = 0.0;
      if (oy >= 0 && oy < uniforms.outH && ox >= 0 && ox < uniforms.outW) {
        v = dy[rowBase[mmA] + (oy * uniforms.outW + ox) * uniforms.outC + sliceCo[kk]];
      }
      tileA[kk][mmA] = v;
    }
    for (var r = 0; r < ${(TILE_N * TILE_K) / THREADS}; r++) {
      let kk = flat / ${TILE_N} + r * ${THREADS / TILE_N};
      var v = 0.0;
      if (nB < uniforms.N && sliceW[kk] >= 0) {
        v = W[sliceW[kk] + nB * uniforms.outC];
      }
      tileB[kk][flat % ${TILE_N}] = v;
    }
    workgroupBarrier();
${tiled.accumulate}
    workgroupBarrier();
  }
  for (var i = 0; i < 4; i++) {
    let m = m0 + ty * 4 + i;
    let tX = m % uniforms.TX;
    let r = m / uniforms.TX;
    let tY = r % uniforms.TY;
    let b = r / uniforms.TY;
    let iy = iy0 + uniforms.strideH * tY;
    let ix = ix0 + uniforms.strideW * tX;
    if (m < uniforms.M && iy < uniforms.inH && ix < uniforms.inW) {
      let base = ((b * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.N;
      for (var j = 0; j < 4; j++) {
        let n = n0 + tx * 4 + j;
        if (n < uniforms.N) {
          result[base + n] = acc[i][j];
        }
      }
    }
  }
}
`;
  }
}

/**
 * Sums the columns `C = dy · Wᵀ` (`[outPixels, taps · inC]`: what each
 * output pixel sends back through each tap), or their transpose `Cᵀ = W ·
 * dyᵀ`, into `dx`: one invocation per element of `dx`, over the taps of its
 * phase (col2im).
 */
class Col2ImProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ["cols"];
  uniforms =
    "N : i32, inH : i32, inW : i32, outH : i32, outW : i32, fh : i32, fw : i32, strideH : i32, strideW : i32, padT : i32, padL : i32, outPixels : i32,";
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  /** Channels an invocation sums: 4 (`vec4<f32>` bindings) where they divide `inC` and `C` is untransposed. */
  outputComponent: number;
  private readonly transposed: boolean;

  constructor(outputShape: number[], transposed: boolean) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.outputComponent = !transposed && outputShape[3] % 4 === 0 ? 4 : 1;
    const n = outputShape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(n / this.outputComponent / 64), 1, 1];
    this.transposed = transposed;
    this.shaderKey =
      `p2pConv2DBackpropInputCol2Im_${transposed}_${this.outputComponent}`;
  }

  getUserCode(): string {
    const n = this.outputComponent;
    // C[pixel, col] at pixel · width + col; Cᵀ at col · outPixels + pixel
    // (the uniform outPixels: Cᵀ's row stride, padded to a multiple of 4).
    const at = this.transposed
      ? "((kh * uniforms.fw + kw) * uniforms.N + c) * uniforms.outPixels + (b * uniforms.outH + oy) * uniforms.outW + ox"
      : `(((b * uniforms.outH + oy) * uniforms.outW + ox) * width + (kh * uniforms.fw + kw) * uniforms.N + c) / ${n}`;
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    let first = index * ${n};
    let c = first % uniforms.N;
    let pixel = first / uniforms.N;
    let ix = pixel % uniforms.inW;
    let row = pixel / uniforms.inW;
    let iy = row % uniforms.inH;
    let b = row / uniforms.inH;
    let ty = iy + uniforms.padT;
    let tx = ix + uniforms.padL;
    let width = uniforms.fh * uniforms.fw * uniforms.N;
    var v = ${n === 4 ? "vec4<f32>(0.0)" : "0.0"};
    for (var kh = ty % uniforms.strideH; kh < uniforms.fh; kh += uniforms.strideH) {
      let oy = (ty - kh) / uniforms.strideH;
      if (oy >= 0 && oy < uniforms.outH) {
        for (var kw = tx % uniforms.strideW; kw < uniforms.fw; kw += uniforms.strideW) {
          let ox = (tx - kw) / uniforms.strideW;
          if (ox >= 0 && ox < uniforms.outW) {
            v += cols[${at}];
          }
        }
      }
    }
    result[index] = v;
  }
}
`;
  }
}

/**
 * `dyᵀ` with its rows padded with zeros to `stride` columns (a multiple of
 * 4, so that tfjs-webgpu's product `W · dyᵀ` runs on vec4): `[outC,
 * stride]` from `dy` as `[outPixels, outC]`.
 */
class PaddedTransposeProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey = "p2pConv2DBackpropInputPaddedTranspose";
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ["dy"];
  uniforms = "outPixels : i32, outC : i32, stride : i32,";
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(outC: number, stride: number) {
    this.outputShape = [outC, stride];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [Math.ceil((outC * stride) / 64), 1, 1];
  }

  getUserCode(): string {
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    let p = index % uniforms.stride;
    let co = index / uniforms.stride;
    var v = 0.0;
    if (p < uniforms.outPixels) {
      v = dy[p * uniforms.outC + co];
    }
    result[index] = v;
  }
}
`;
  }
}

/** How an input gradient runs: p2p's per-phase tiled products, columns and tfjs-webgpu's matrix product, or tfjs-webgpu's kernel. */
export type InputGradPath = "phases" | "matmul" | "registers" | "stock";

/**
 * The path for an input gradient from `outPixels` output pixels (batch
 * included) of `outC` channels: the per-phase products where `phases` asks
 * for them; else the columns `dy · Wᵀ` on tfjs-webgpu's matrix product and
 * col2im, as fast as the stock kernel to 4× faster on llvmpipe at every pix2pix
 * layer past the innermost two (at most 16 output pixels, where the stock
 * kernel is faster) and with 4 channels or more (a PatchGAN's last layer
 * has one); else the stock kernel. Where
 * {@linkcode registerProductsEnabled} (software adapters), the columns run
 * on p2p's register-tiled product at every shape (`registers`: `dy · Wᵀ`
 * without a transpose pass; it has no tiles to fill, so few pixels or
 * channels cost it nothing extra).
 */
export function inputGradPath(
  outPixels: number,
  outC: number,
  phases: boolean,
): InputGradPath {
  if (phases) return "phases";
  if (registerProductsEnabled()) return "registers";
  return outPixels > 16 && outC >= 4 ? "matmul" : "stock";
}

let forcedPath: InputGradPath | undefined;

/** Forces one path for every shape (tests, benchmarks), or `undefined` for {@linkcode inputGradPath}'s. */
export function setInputGradPath(path: InputGradPath | undefined): void {
  forcedPath = path;
}

/** Inputs of `Conv2DBackpropInput`. */
export interface Conv2DBackpropInputInputs {
  /** Gradient of the convolution's output, `[batch, outH, outW, outC]`. */
  dy: tf.TensorInfo;
  /** The filter, `[fh, fw, inC, outC]`. */
  filter: tf.TensorInfo;
}

/**
 * The WebGPU `Conv2DBackpropInput` kernel function (channels-last float32;
 * other layouts go to `fallback`, tfjs-webgpu's stock kernel). `phases`:
 * whether every gradient runs as per-phase products (as do those
 * {@linkcode inputGradPath} gives to the stock kernel when there is no
 * `fallback`).
 */
export function conv2DBackpropInputWebGpu(
  args: {
    inputs: Conv2DBackpropInputInputs;
    backend: WebGpuBackendLike;
    attrs: tf.Conv2DBackpropInputAttrs;
  },
  fallback?: tf.KernelFunc,
  phases = true,
): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== "channelsLast" || dy.dtype !== "float32") {
    if (!fallback) {
      throw new Error(
        `p2p WebGPU Conv2DBackpropInput: only channels-last float32 is supported, received ${dataFormat} ${dy.dtype}`,
      );
    }
    return runFallback(fallback, args);
  }
  const info = channelsLastConv2DInfo(
    inputShape,
    filter.shape,
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
      `p2p WebGPU Conv2DBackpropInput: dy must have shape [${expected}] for input [${inputShape}] and filter [${filter.shape}], received [${dy.shape}]`,
    );
  }
  const outPixels = info.batchSize * info.outHeight * info.outWidth;
  const path = forcedPath ??
    inputGradPath(outPixels, info.outChannels, phases);
  if (path === "stock" && fallback) {
    return runFallback(fallback, args);
  }
  if (path === "registers") return registerInputGrad(backend, dy, filter, info);
  const matMul = getKernel("BatchMatMul", "webgpu");
  const transpose = getKernel("Transpose", "webgpu");
  if (path === "matmul" && matMul && transpose) {
    return columnsInputGrad(backend, dy, filter, info, { matMul, transpose });
  }
  return phasesInputGrad(backend, dy, filter, info);
}

/** The columns `dy · Wᵀ` on p2p's register-tiled product, summed into `dx` by the col2im program. */
function registerInputGrad(
  backend: WebGpuBackendLike,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
): tf.TensorInfo {
  const outPixels = info.batchSize * info.outHeight * info.outWidth;
  const width = info.filterHeight * info.filterWidth * info.inChannels;
  const cols = registerProduct(backend, dy, filter, {
    m: outPixels,
    n: width,
    k: info.outChannels,
  }, { transposeB: true });
  const out = col2Im(backend, cols, info, false, outPixels);
  backend.disposeData(cols.dataId);
  return out;
}

/**
 * The columns `dy · Wᵀ` (or `W · dyᵀ`) on tfjs-webgpu's matrix product,
 * summed into `dx` by the col2im program.
 */
function columnsInputGrad(
  backend: WebGpuBackendLike,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
  kernels: { matMul: tf.KernelConfig; transpose: tf.KernelConfig },
): tf.TensorInfo {
  const { matMul, transpose } = kernels;
  const outPixels = info.batchSize * info.outHeight * info.outWidth;
  const width = info.filterHeight * info.filterWidth * info.inChannels;
  const kb = backend as unknown as tf.KernelBackend;
  const outC = info.outChannels;
  // tfjs-webgpu's product runs on vec4 only untransposed and with output
  // columns a multiple of 4, and a transpose costs a pass over its input:
  // transpose the smaller of dy and W, and take C = dy · Wᵀ or Cᵀ = W ·
  // dyᵀ, dyᵀ's rows padded to a multiple of 4 pixels (the col2im reads
  // Cᵀ's rows at that stride).
  const transposed = outPixels < width;
  const stride = Math.ceil(outPixels / 4) * 4;
  const t = transposed
    ? backend.runWebGPUProgram(
      new PaddedTransposeProgram(outC, stride),
      [dy],
      "float32",
      [outPixels, outC, stride].map(int32Uniform),
    )
    : transpose.kernelFunc({
      inputs: { x: { ...filter, shape: [width, outC] } },
      backend: kb,
      attrs: { perm: [1, 0] },
    }) as tf.TensorInfo;
  const cols = matMul.kernelFunc({
    inputs: transposed
      ? {
        a: { ...filter, shape: [1, width, outC] },
        b: { ...t, shape: [1, outC, stride] },
      }
      : {
        a: { ...dy, shape: [1, outPixels, outC] },
        b: { ...t, shape: [1, outC, width] },
      },
    backend: kb,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  backend.disposeData(t.dataId);
  const out = col2Im(backend, cols, info, transposed, stride);
  backend.disposeData(cols.dataId);
  return out;
}

/**
 * Sums the columns `cols` (`[pixels, width]`, or `[width, stride]` where
 * `transposed`) into `dx`.
 */
function col2Im(
  backend: WebGpuBackendLike,
  cols: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
  transposed: boolean,
  stride: number,
): tf.TensorInfo {
  return backend.runWebGPUProgram(
    new Col2ImProgram([...info.inShape], transposed),
    [cols],
    "float32",
    [
      info.inChannels,
      info.inHeight,
      info.inWidth,
      info.outHeight,
      info.outWidth,
      info.filterHeight,
      info.filterWidth,
      info.strideHeight,
      info.strideWidth,
      info.padInfo.top,
      info.padInfo.left,
      stride,
    ].map(int32Uniform),
  );
}

/** One tiled product a sub-pixel phase. */
function phasesInputGrad(
  backend: WebGpuBackendLike,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
): tf.TensorInfo {
  const inputShape = info.inShape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const TY = Math.ceil(info.inHeight / sh);
  const TX = Math.ceil(info.inWidth / sw);
  const JH = Math.ceil(info.filterHeight / sh);
  const JW = Math.ceil(info.filterWidth / sw);
  const m = info.batchSize * TY * TX;
  const n = info.inChannels;
  const k = JH * JW * info.outChannels;
  const program = new InputGradProgram([...inputShape], m, n, sh * sw);
  return backend.runWebGPUProgram(
    program,
    [dy, filter],
    "float32",
    [
      m,
      n,
      k,
      Math.ceil(k / TILE_K),
      info.batchSize,
      TY,
      TX,
      JW,
      info.inHeight,
      info.inWidth,
      info.outHeight,
      info.outWidth,
      info.outChannels,
      info.filterHeight,
      info.filterWidth,
      sh,
      sw,
      info.padInfo.top,
      info.padInfo.left,
    ].map(int32Uniform),
  );
}
