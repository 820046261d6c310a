/**
 * What a run shows of its generator: sample grids (input | output | target
 * of fixed held-out pairs) and the final held-out comparison with always
 * predicting the mean training target. Both run the generator in paper mode
 * without disturbing the training state.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type PairedDataset, writeImage } from "@p2p/data";
import type { LayersModel } from "@p2p/models";
import { generatePreserving } from "./inference_state.ts";

/** The final comparison on held-out pairs. */
export interface HeldOutEvaluation {
  /** Pairs evaluated. */
  pairs: number;
  /** Mean |G(x) − y| in [-1, 1] units (G in paper mode). */
  modelL1: number;
  /** Mean |mean training target − y|. */
  baselineL1: number;
  /** `modelL1 / baselineL1` (the demo's bound: ≤ 0.8). */
  ratio: number;
  /** Whether the pairs were held out (false: training pairs, for lack of val/ or test/). */
  heldOut: boolean;
}

/** The grey channel repeated to RGB so that grids can mix 1 and 3 channels. */
function toRgb(t: tf.Tensor4D): tf.Tensor4D {
  return t.shape[3] === 3 ? t : tf.tile(t, [1, 1, 1, 3]);
}

/** Writes an `input | output | target` grid of the first `rows` held-out pairs. */
export async function writeSampleGrid(
  path: string,
  generator: LayersModel,
  heldOut: PairedDataset,
  rows: number,
): Promise<void> {
  const n = Math.min(rows, heldOut.size);
  const lines: tf.Tensor4D[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const b = await heldOut.batch([i]);
      const fake = generatePreserving(generator, b.input, { mode: "paper" });
      lines.push(
        tf.tidy(() =>
          tf.concat(
            [toRgb(b.input), toRgb(fake), toRgb(b.target)],
            2,
          ) as tf.Tensor4D
        ),
      );
      tf.dispose([b.input, b.target, fake]);
    }
    const grid = tf.tidy(() => tf.concat(lines, 1) as tf.Tensor4D);
    try {
      await writeImage(path, grid);
    } finally {
      grid.dispose();
    }
  } finally {
    tf.dispose(lines);
  }
}

/**
 * Compares the generator (paper mode, one pair at a time) with always
 * predicting the mean training target (pixel-wise, over the training pairs
 * at test-time preprocessing), by mean L1 over `heldOut`.
 */
export async function evaluateHeldOut(
  generator: LayersModel,
  train: PairedDataset,
  heldOut: PairedDataset,
  isHeldOut = true,
): Promise<HeldOutEvaluation> {
  const first = train.pixels(0).target;
  const sum = new Float64Array(first.data.length);
  for (let i = 0; i < train.size; i++) {
    const b = train.pixels(i).target;
    if (b.data.length !== sum.length) {
      throw new Error(
        `evaluateHeldOut: training targets differ in size ('${
          train.names[0]
        }' vs '${train.names[i]}'); the mean target needs one size`,
      );
    }
    for (let k = 0; k < sum.length; k++) sum[k] += b.data[k];
  }
  const mean = new Float32Array(sum.length);
  for (let k = 0; k < sum.length; k++) {
    mean[k] = sum[k] / train.size / 127.5 - 1;
  }
  let modelSum = 0, baseSum = 0, count = 0;
  for (let i = 0; i < heldOut.size; i++) {
    const b = await heldOut.batch([i]);
    const fake = generatePreserving(generator, b.input, { mode: "paper" });
    const [f, y] = await Promise.all([fake.data(), b.target.data()]);
    tf.dispose([b.input, b.target, fake]);
    if (y.length !== mean.length) {
      throw new Error(
        `evaluateHeldOut: held-out pair '${
          heldOut.names[i]
        }' has ${y.length} target values, the training targets ${mean.length}`,
      );
    }
    for (let k = 0; k < y.length; k++) {
      modelSum += Math.abs(f[k] - y[k]);
      baseSum += Math.abs(mean[k] - y[k]);
    }
    count += y.length;
  }
  const modelL1 = modelSum / count, baselineL1 = baseSum / count;
  return {
    pairs: heldOut.size,
    modelL1,
    baselineL1,
    ratio: modelL1 / baselineL1,
    heldOut: isHeldOut,
  };
}
