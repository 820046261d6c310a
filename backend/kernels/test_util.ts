/**
 * Test helpers for the fast wasm kernels: run the same computation on the
 * cpu backend (tfjs's reference kernels) and on wasm (with p2p's kernels),
 * and compare.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { registerFastWasmKernels } from "../wasm_kernels.ts";

/** Values of a computation's outputs, with their shapes. */
export interface Outputs {
  /** Output shapes, in order. */
  shapes: number[][];
  /** Output values, in order. */
  values: Float32Array[];
}

/** Runs `f` on `backend` and reads its outputs back; leaves no tensors. */
export async function runOn(
  backend: "cpu" | "wasm",
  f: () => tf.Tensor[],
): Promise<Outputs> {
  assert.ok(await tf.setBackend(backend), `backend ${backend} did not start`);
  if (backend === "wasm") registerFastWasmKernels();
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

/** Runs `f` on cpu and on wasm (p2p kernels) and asserts they agree. */
export async function assertWasmMatchesCpu(
  f: () => tf.Tensor[],
  what: string,
  tol = 1e-4,
): Promise<void> {
  const expected = await runOn("cpu", f);
  const actual = await runOn("wasm", f);
  assertClose(actual, expected, tol, what);
}

/** A deterministic N(0, 1) tensor (the same on every backend). */
export function randn(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed);
}
