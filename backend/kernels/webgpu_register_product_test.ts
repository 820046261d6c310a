import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu } from "../select_backend.ts";
import { assertClose, randn, runOnBackend } from "./test_util.ts";
import {
  type ProductActivation,
  registerColumns,
  registerLanesX,
  registerProduct,
  registerRows,
  vec4Layout,
} from "./webgpu_register_product.ts";
import type { WebGpuBackendLike } from "./webgpu_program.ts";

tf.enableProdMode();

const gpu = await probeGpu();

/** One product: `m × k` by `k × n`, stored transposed or not, and its epilogue. */
interface ProductCase {
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  bias: boolean;
  activation: ProductActivation;
}

/** Odd sizes: one row / column / K, tails of the 16-row and 8 × 8-column tiles and of K's step of 4, both column widths, lanes along rows and columns. */
const CASES: ProductCase[] = [
  [1, 1, 1, false, false, false, "linear"],
  [37, 13, 3, true, true, true, "relu"],
  [17, 70, 65, false, true, true, "leakyrelu"],
  [33, 9, 32, true, false, false, "linear"],
  [64, 130, 129, false, false, true, "linear"],
  [5, 257, 1, true, false, true, "leakyrelu"],
  [200, 6, 96, false, true, false, "relu"],
  [3, 40, 70, true, true, true, "linear"],
  [6, 5, 9, false, false, false, "relu"],
  [70, 20, 32, false, true, true, "leakyrelu"],
  [41, 7, 12, true, false, false, "linear"],
  // vec4 along K (A's rows; B's columns, or B's K where transposed).
  [37, 12, 20, false, false, true, "leakyrelu"],
  [19, 64, 72, false, true, true, "relu"],
  [3, 8, 4, false, true, false, "linear"],
  // vec4 along M (A transposed, B not).
  [20, 13, 12, true, false, true, "relu"],
  [4, 1, 36, true, false, false, "leakyrelu"],
  [72, 30, 64, true, false, false, "linear"],
].map(([m, k, n, transposeA, transposeB, bias, activation]) => ({
  m,
  k,
  n,
  transposeA,
  transposeB,
  bias,
  activation,
} as ProductCase));

const ALPHA = 0.3;

/** The case's operands (seeded), as stored. */
function operands(c: ProductCase): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return [
    randn(c.transposeA ? [c.k, c.m] : [c.m, c.k], 1),
    randn(c.transposeB ? [c.n, c.k] : [c.k, c.n], 2),
    randn([c.n], 3),
  ];
}

/** The case with tf ops (the cpu reference). */
function reference(c: ProductCase): () => tf.Tensor[] {
  return () => {
    const [a, b, bias] = operands(c);
    let y = tf.matMul(
      a as tf.Tensor2D,
      b as tf.Tensor2D,
      c.transposeA,
      c.transposeB,
    );
    if (c.bias) y = tf.add(y, bias);
    if (c.activation === "relu") y = tf.relu(y);
    if (c.activation === "leakyrelu") y = tf.leakyRelu(y, ALPHA);
    return [y];
  };
}

/** The case on {@linkcode registerProduct} (`scalar`: without `vec4` loads). */
function product(c: ProductCase, scalar: boolean): () => tf.Tensor[] {
  return () => {
    const [a, b, bias] = operands(c);
    const backend = tf.backend() as unknown as WebGpuBackendLike;
    const out = registerProduct(backend, a, b, c, {
      transposeA: c.transposeA,
      transposeB: c.transposeB,
      bias: c.bias ? bias : null,
      activation: c.activation,
      alpha: ALPHA,
      scalar,
    });
    return [tf.engine().makeTensorFromTensorInfo(out)];
  };
}

Deno.test("registerRows: the power of two at or above M, at most 16", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 15, 16, 17, 225].map(registerRows), [
    1,
    2,
    4,
    4,
    8,
    16,
    16,
    16,
    16,
  ]);
});

Deno.test("registerColumns, registerLanesX: 8 columns an invocation (4 up to 4), lanes along the columns as they need", () => {
  assert.equal(registerColumns(1), 4);
  assert.equal(registerColumns(4), 4);
  assert.equal(registerColumns(5), 8);
  assert.equal(registerColumns(512), 8);
  assert.equal(registerLanesX(1, 4), 1);
  assert.equal(registerLanesX(32, 8), 4);
  assert.equal(registerLanesX(33, 8), 8);
  assert.equal(registerLanesX(4096, 8), 8);
});

Deno.test("vec4Layout: along K for untransposed A, along M for transposed A and untransposed B, else none", () => {
  assert.equal(vec4Layout(37, 20, 12, false, false), "alongK");
  assert.equal(vec4Layout(37, 20, 12, false, true), "alongK");
  assert.equal(vec4Layout(37, 20, 13, false, false), null);
  assert.equal(vec4Layout(37, 21, 12, false, false), null);
  assert.equal(vec4Layout(20, 12, 13, true, false), "alongM");
  assert.equal(vec4Layout(21, 12, 13, true, false), null);
  assert.equal(vec4Layout(20, 12, 16, true, true), null);
});

Deno.test({
  name:
    "registerProduct: the WebGPU register-tiled product (scalar and vec4 loads) = tf ops on cpu to 1e-4 (transposes, bias, activations, odd sizes)",
  ignore: gpu.adapter === null,
  fn: async () => {
    const { selectBackend } = await import("../select_backend.ts");
    await selectBackend({ backend: "webgpu", log: null });
    for (const c of CASES) {
      const expected = await runOnBackend("cpu", reference(c));
      // vec4 first: a program that failed to build would leave its output
      // buffer as the pool gave it, and the scalar run's is the same size.
      for (const scalar of [false, true]) {
        const layout = scalar
          ? "scalar"
          : vec4Layout(c.m, c.n, c.k, c.transposeA, c.transposeB) ?? "scalar";
        const what = `${c.m}×${c.k}×${c.n} t${+c.transposeA}${+c
          .transposeB} ${c.activation}${c.bias ? " + bias" : ""} [${layout}]`;
        assertClose(
          await runOnBackend("webgpu", product(c, scalar)),
          expected,
          1e-4,
          what,
        );
      }
    }
  },
});
