/**
 * `P2pLeakyReluGrad` for the tfjs WebGPU backend: the gradient of a leaky
 * ReLU, `dx = x > 0 ? dy : alpha · dy`, as one element-wise program (four
 * elements an invocation where the size allows) in place of tfjs's three
 * kernels (`Greater`, `Multiply`, `Select`). `@p2p/layers` routes the
 * `LeakyRelu` gradient here where the backend has this kernel.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { WebGpuBackendLike, WebGpuProgram } from "./webgpu_program.ts";

/** The kernel's name (`@p2p/layers`' `LEAKY_RELU_GRAD_KERNEL`). */
export const LEAKY_RELU_GRAD = "P2pLeakyReluGrad";

/** `dx = select(alpha · dy, dy, x > 0)`, element-wise. */
class LeakyReluGradProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ["dy", "x"];
  uniforms = "alpha : f32,";
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  /** Elements an invocation computes: 4 (`vec4<f32>` bindings) where they divide the size. */
  outputComponent: number;

  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    const size = shape.reduce((a, b) => a * b, 1);
    this.outputComponent = size % 4 === 0 ? 4 : 1;
    this.shaderKey = `p2pLeakyReluGrad_${this.outputComponent}`;
    this.dispatch = [Math.ceil(size / this.outputComponent / 64), 1, 1];
  }

  getUserCode(): string {
    const zero = this.outputComponent === 4 ? "vec4<f32>(0.0)" : "0.0";
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    let g = dy[index];
    result[index] = select(g * uniforms.alpha, g, x[index] > ${zero});
  }
}
`;
  }
}

/** Inputs of `P2pLeakyReluGrad`. */
export interface LeakyReluGradInputs {
  /** Gradient of the activation's output. */
  dy: tf.TensorInfo;
  /** The activation's input (`dy`'s shape). */
  x: tf.TensorInfo;
}

/**
 * The WebGPU `P2pLeakyReluGrad` kernel function: `dx` (float32, `x`'s
 * shape) for the slope `attrs.alpha`.
 */
export function leakyReluGradWebGpu(args: {
  inputs: LeakyReluGradInputs;
  backend: WebGpuBackendLike;
  attrs: Record<string, unknown>;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, x } = inputs;
  if (
    dy.dtype !== "float32" || x.dtype !== "float32" ||
    dy.shape.join() !== x.shape.join()
  ) {
    throw new Error(
      `p2p WebGPU ${LEAKY_RELU_GRAD}: dy and x must be float32 of one shape, received ${dy.dtype} [${dy.shape}] and ${x.dtype} [${x.shape}]`,
    );
  }
  return backend.runWebGPUProgram(
    new LeakyReluGradProgram([...x.shape]),
    [dy, x],
    "float32",
    [{ type: "float32", data: [attrs.alpha as number] }],
  );
}
