/**
 * `P2pAdamUpdate` on the tfjs WebGPU backend: the Adam update of one variable
 * in three element-wise WGSL dispatches (new m, new v, new value), where
 * tfjs's own Adam runs about thirteen kernels a variable. A tfjs-webgpu
 * program has one output buffer, so each of the three recomputes what it
 * needs of the others (a few multiply-adds).
 *
 * Inputs `value`, `m`, `v`, `grad`; attrs `lr`, `beta1`, `beta2`, `epsilon`,
 * `c1 = 1 − β1ᵗ`, `c2 = 1 − β2ᵗ`; outputs the new value, m and v, with the
 * formula of the wasm kernel (`wasm/adam_update.ts`):
 *
 * ```text
 * m' = β1 · m + (1 − β1) · g
 * v' = β2 · v + (1 − β2) · g²
 * value' = value − (lr / c1) · m' / (sqrt(v') / sqrt(c2) + ε)
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { WebGpuBackendLike, WebGpuProgram } from "./webgpu_program.ts";

/** Name of the fused update kernel. */
export const ADAM_UPDATE = "P2pAdamUpdate";

/** Which of the update's outputs a program writes. */
type Part = "value" | "m" | "v";

/** Invocations per workgroup of the update programs. */
const WORKGROUP = 256;

/**
 * One output of the update, element-wise over the variable (four elements
 * an invocation where the size allows: a quarter of the invocations, whose
 * overhead dominates element-wise work on llvmpipe).
 */
class AdamPartProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms =
    "b1 : f32, a1 : f32, b2 : f32, a2 : f32, step : f32, rc : f32, eps : f32,";
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;
  /** Elements an invocation updates: 4 (every binding `vec4<f32>`) where they divide the size. */
  outputComponent: number;
  private readonly part: Part;

  constructor(part: Part, shape: number[]) {
    this.part = part;
    this.outputShape = shape;
    const size = shape.reduce((a, b) => a * b, 1);
    this.outputComponent = size % 4 === 0 ? 4 : 1;
    this.shaderKey = `p2pAdamUpdate_${part}_${this.outputComponent}`;
    // Flat (tfjs-webgpu folds more than 65 535 workgroups into two dimensions).
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = [
      Math.ceil(size / this.outputComponent / WORKGROUP),
      1,
      1,
    ];
    this.variableNames = part === "value"
      ? ["p", "m", "v", "g"]
      : part === "m"
      ? ["m", "g"]
      : ["v", "g"];
  }

  getUserCode(): string {
    const body = this.part === "m"
      ? "result[index] = m[index] * uniforms.b1 + g[index] * uniforms.a1;"
      : this.part === "v"
      ? `let gi = g[index];
    result[index] = v[index] * uniforms.b2 + gi * gi * uniforms.a2;`
      : `let gi = g[index];
    let mi = m[index] * uniforms.b1 + gi * uniforms.a1;
    let vi = v[index] * uniforms.b2 + gi * gi * uniforms.a2;
    result[index] = p[index] - (uniforms.step * mi) / (sqrt(vi) * uniforms.rc + uniforms.eps);`;
    return /* wgsl */ `
fn main(index : i32) {
  if (index < uniforms.size) {
    ${body}
  }
}
`;
  }
}

/** Inputs of `P2pAdamUpdate`. */
export interface AdamUpdateInputs {
  /** The variable's value. */
  value: tf.TensorInfo;
  /** Its first moment. */
  m: tf.TensorInfo;
  /** Its second moment. */
  v: tf.TensorInfo;
  /** Its gradient. */
  grad: tf.TensorInfo;
}

/**
 * The WebGPU `P2pAdamUpdate` kernel function: returns the new value, m and v
 * (float32, `value`'s shape). See the module doc for the formula.
 */
export function adamUpdateWebGpu(args: {
  inputs: AdamUpdateInputs;
  backend: WebGpuBackendLike;
  attrs: Record<string, unknown>;
}): tf.TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { value, m, v, grad } = inputs;
  for (const [name, t] of Object.entries(inputs)) {
    if (t.dtype !== "float32" || t.shape.join() !== value.shape.join()) {
      throw new Error(
        `p2p WebGPU ${ADAM_UPDATE}: ${name} must be float32 of shape [${value.shape}], received ${t.dtype} [${t.shape}]`,
      );
    }
  }
  const b1 = attrs.beta1 as number;
  const b2 = attrs.beta2 as number;
  const f32 = (x: number) => ({ type: "float32", data: [x] });
  const uniforms = [
    b1,
    1 - b1,
    b2,
    1 - b2,
    (attrs.lr as number) / (attrs.c1 as number),
    1 / Math.sqrt(attrs.c2 as number),
    attrs.epsilon as number,
  ].map(f32);
  const run = (part: Part, ins: tf.TensorInfo[]): tf.TensorInfo =>
    backend.runWebGPUProgram(
      new AdamPartProgram(part, [...value.shape]),
      ins,
      "float32",
      uniforms,
    );
  return [
    run("value", [value, m, v, grad]),
    run("m", [m, grad]),
    run("v", [v, grad]),
  ];
}

/** p2p's `P2pAdamUpdate` kernel for the WebGPU backend. */
export const adamUpdateWebGpuConfig: tf.KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: "webgpu",
  kernelFunc: adamUpdateWebGpu as unknown as tf.KernelFunc,
};
