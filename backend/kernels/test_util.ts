/**
 * Test helpers for the fast wasm kernels: run the same computation on the
 * cpu backend (tfjs's reference kernels) and on wasm (with p2p's kernels),
 * and compare.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { loadBlas } from "./blas.ts";
import {
  fastWasmKernels,
  registerFastWasmKernels,
  unregisterFastWasmKernels,
} from "../wasm_kernels.ts";
import type { WebGpuKernelsOptions } from "../webgpu_kernels.ts";

/** Which p2p kernels run on wasm: XNNPACK-only, or on the native BLAS. */
export type WasmPath = "xnnpack" | "blas";

/** Whether the native BLAS path can run here (ffi permission and OpenBLAS). */
export const BLAS_AVAILABLE: boolean = (() => {
  const why: string[] = [];
  const blas = loadBlas({}, why);
  blas?.close();
  return blas !== undefined;
})();

/** Registers p2p's wasm kernels on `path` (re-registering if another is active). */
export function useWasmPath(path: WasmPath): void {
  const now = fastWasmKernels();
  const isBlas = now?.blas != null;
  if (now && isBlas === (path === "blas")) return;
  unregisterFastWasmKernels();
  const info = registerFastWasmKernels({
    blas: path === "blas" ? "auto" : "off",
  });
  assert.equal(
    info.blas != null,
    path === "blas",
    `could not register the ${path} kernels: ${info.note}`,
  );
}

/** The wasm paths to test here: XNNPACK always, the BLAS when it loads. */
export const WASM_PATHS: WasmPath[] = BLAS_AVAILABLE
  ? ["xnnpack", "blas"]
  : ["xnnpack"];

/** Values of a computation's outputs, with their shapes. */
export interface Outputs {
  /** Output shapes, in order. */
  shapes: number[][];
  /** Output values, in order. */
  values: Float32Array[];
}

/** Runs `f` on `backend` and reads its outputs back; leaves no tensors. */
export async function runOn(
  backend: "cpu" | WasmPath,
  f: () => tf.Tensor[],
): Promise<Outputs> {
  const name = backend === "cpu" ? "cpu" : "wasm";
  assert.ok(await tf.setBackend(name), `backend ${name} did not start`);
  if (backend !== "cpu") useWasmPath(backend);
  const before = tf.memory().numTensors;
  const outs = tf.tidy(f);
  const result = {
    shapes: outs.map((t) => t.shape),
    values: outs.map((t) => t.dataSync() as Float32Array),
  };
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, before, `tensors leaked on ${backend}`);
  return result;
}

/**
 * Runs `f` on the tfjs backend `name` as it is registered (no kernel set-up,
 * unlike {@linkcode runOn}) and reads its outputs back asynchronously (as
 * WebGPU requires); leaves no tensors.
 */
export async function runOnBackend(
  name: string,
  f: () => tf.Tensor[],
): Promise<Outputs> {
  assert.ok(await tf.setBackend(name), `backend ${name} did not start`);
  const before = tf.memory().numTensors;
  const outs = tf.tidy(f);
  const values: Float32Array[] = [];
  for (const t of outs) values.push(await t.data() as Float32Array);
  const shapes = outs.map((t) => t.shape);
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, before, `tensors leaked on ${name}`);
  return { shapes, values };
}

/**
 * Starts the webgpu backend and registers p2p's WebGPU kernels afresh, with
 * `options` (imported here on first use: importing the WebGPU backend
 * registers it, which the wasm tests must not).
 */
export async function useWebGpuKernels(
  options?: WebGpuKernelsOptions,
): Promise<void> {
  const { selectBackend } = await import("../select_backend.ts");
  const { registerWebGpuKernels, unregisterWebGpuKernels } = await import(
    "../webgpu_kernels.ts"
  );
  await selectBackend({ backend: "webgpu", log: null });
  unregisterWebGpuKernels();
  registerWebGpuKernels(options);
}

/**
 * Asserts `actual` agrees with `expected` to `tol`, relative where values are
 * large: |a − e| ≤ tol · max(1, |e|, rms(expected)) (the RMS term keeps
 * outputs that cancel to small values from failing on float32 rounding of
 * large intermediate sums).
 */
export function assertClose(
  actual: Outputs,
  expected: Outputs,
  tol = 1e-4,
  what = "",
): void {
  assert.deepEqual(actual.shapes, expected.shapes, `${what}: shapes differ`);
  actual.values.forEach((a, i) => {
    const e = expected.values[i];
    let sq = 0;
    for (let k = 0; k < e.length; k++) sq += e[k] * e[k];
    const floor = Math.max(1, Math.sqrt(sq / Math.max(1, e.length)));
    let worst = 0;
    let at = -1;
    for (let k = 0; k < e.length; k++) {
      const err = Math.abs(a[k] - e[k]) / Math.max(floor, Math.abs(e[k]));
      if (!(err <= worst)) {
        worst = err;
        at = k;
      }
    }
    assert.ok(
      worst <= tol,
      `${what}: output ${i} (shape [${
        expected.shapes[i]
      }]) differs at ${at}: ` +
        `${a[at]} vs reference ${e[at]} (relative error ${worst} > ${tol})`,
    );
  });
}

/** Runs `f` on cpu and on wasm (each of p2p's kernel paths) and asserts they agree. */
export async function assertWasmMatchesCpu(
  f: () => tf.Tensor[],
  what: string,
  tol = 1e-4,
): Promise<void> {
  const expected = await runOn("cpu", f);
  for (const path of WASM_PATHS) {
    const actual = await runOn(path, f);
    assertClose(actual, expected, tol, `${what} [wasm ${path}]`);
  }
}

/** A deterministic N(0, 1) tensor (the same on every backend). */
export function randn(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed);
}

/** `size` deterministic values in [−1, 1) (a linear congruential sequence from `seed`). */
export function uniformValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** The shape and convolution attributes of a case, as `allConvKernels` takes them. */
export interface ConvKernelCase {
  /** Input shape. */
  x: number[];
  /** Filter shape. */
  filter: number[];
  /** Stride. */
  strides: number | [number, number];
  /** Padding. */
  pad: "same" | "valid" | number | [
    [number, number],
    [number, number],
    [number, number],
    [number, number],
  ];
}

/** Conv2D, FusedConv2D (bias), Conv2DBackpropInput and Conv2DBackpropFilter of a case, on random data. */
export function allConvKernels(c: ConvKernelCase): tf.Tensor[] {
  const x = randn(c.x, 1) as tf.Tensor4D;
  const filter = randn(c.filter, 2) as tf.Tensor4D;
  const bias = randn([c.filter[3]], 3) as tf.Tensor1D;
  const pad = c.pad as "same";
  const y = tf.conv2d(x, filter, c.strides, pad);
  const dy = randn(y.shape, 4) as tf.Tensor4D;
  return [
    y,
    tf.fused.conv2d({ x, filter, strides: c.strides, pad, bias }),
    tf.conv2dTranspose(dy, filter, x.shape, c.strides, pad),
    tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
      strides: c.strides,
      pad: c.pad,
      dataFormat: "NHWC",
      filterShape: c.filter,
    } as unknown as tf.NamedAttrMap) as tf.Tensor,
  ];
}
