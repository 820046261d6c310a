/**
 * The patches of a convolution's input as a matrix (an explicit im2col), for
 * tfjs-webgpu's matrix product: `P[k, m]`, one row `k` per output pixel of
 * the batch (`(b · outH + oy) · outW + ox`), one column `m` per filter tap
 * and input channel (`(kh · fw + kw) · inC + c`), zero where the tap falls
 * in the padding. `P · W` is the convolution (`W` as stored, `[fh·fw·inC,
 * outC]`) and `Pᵀ · dy` its filter gradient.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  CONV_GEOMETRY_UNIFORMS,
  convGeometry,
  int32Uniform,
  type WebGpuBackendLike,
  type WebGpuProgram,
} from "./webgpu_program.ts";

/** Gathers the patches `[1, K, M]` of `x`, four channels an invocation where `inC` allows. */
class PatchesProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey = "p2pConv2DPatches";
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ["x"];
  uniforms = `M : i32, ${CONV_GEOMETRY_UNIFORMS}`;
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  /** Channels an invocation gathers: 4 (`vec4<f32>` bindings) where they divide `inC`. */
  outputComponent: number;

  constructor(k: number, m: number, inC: number) {
    this.outputShape = [1, k, m];
    this.dispatchLayout = { x: [0, 1, 2] };
    this.outputComponent = inC % 4 === 0 ? 4 : 1;
    this.shaderKey += this.outputComponent;
    this.dispatch = [Math.ceil((k * m) / this.outputComponent / 64), 1, 1];
  }

  getUserCode(): string {
    const n = this.outputComponent;
    const zero = n === 4 ? "vec4<f32>(0.0)" : "0.0";
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    let first = index * ${n};
    let m = first % uniforms.M;
    let k = first / uniforms.M;
    let c = m % uniforms.inC;
    let tap = m / uniforms.inC;
    let ox = k % uniforms.outW;
    let row = k / uniforms.outW;
    let oy = row % uniforms.outH;
    let b = row / uniforms.outH;
    let iy = oy * uniforms.strideH - uniforms.padT + tap / uniforms.fw;
    let ix = ox * uniforms.strideW - uniforms.padL + tap % uniforms.fw;
    var v = ${zero};
    if (iy >= 0 && iy < uniforms.inH && ix >= 0 && ix < uniforms.inW) {
      v = x[(((b * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + c) / ${n}];
    }
    result[index] = v;
  }
}
`;
  }
}

/**
 * The patches of `x` (`[batch, inH, inW, inC]`, float32) for the convolution
 * `info` describes: a `[1, batch·outH·outW, fh·fw·inC]` tensor the caller
 * disposes.
 */
export function runPatches(
  backend: WebGpuBackendLike,
  x: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const k = info.batchSize * info.outHeight * info.outWidth;
  const m = info.filterHeight * info.filterWidth * info.inChannels;
  return backend.runWebGPUProgram(
    new PatchesProgram(k, m, info.inChannels),
    [x],
    "float32",
    [
      m,
      ...convGeometry(info),
    ].map(int32Uniform),
  );
}
