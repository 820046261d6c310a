/**
 * Image-quality metrics between a translation and its target: L1, PSNR and
 * SSIM (Wang et al. 2004: 11×11 Gaussian window σ 1.5, K1 0.01, K2 0.03).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor } from "@p2p/layers";

/** Per-image metrics. */
export interface ImageMetrics {
  /** Mean absolute error in [-1, 1] units (the training L1). */
  l1: number;
  /** Peak signal-to-noise ratio in dB over [0, 255] pixels. */
  psnr: number;
  /** Structural similarity (mean over channels), in [-1, 1]. */
  ssim: number;
}

function gaussianWindow(
  size: number,
  sigma: number,
  channels: number,
): tf.Tensor4D {
  const g: number[] = [];
  const c = (size - 1) / 2;
  for (let i = 0; i < size; i++) {
    g.push(Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
  }
  const s = g.reduce((a, b) => a + b, 0);
  const k: number[] = [];
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) k.push((g[i] * g[j]) / (s * s));
  }
  return tf.tidy(() =>
    tf.tile(tf.tensor4d(k, [size, size, 1, 1]), [1, 1, channels, 1])
  );
}

/**
 * Computes L1, PSNR and SSIM between `output` and `target`, each
 * `[h, w, c]` or `[1, h, w, c]` in [-1, 1].
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { imageMetrics } from "@p2p/models";
 * const a = tf.randomUniform([16, 16, 3], -1, 1);
 * const m = await imageMetrics(a, a);
 * console.log(m.l1, m.ssim); // 0 1
 * ```
 */
export async function imageMetrics(
  output: Tensor,
  target: Tensor,
): Promise<ImageMetrics> {
  if (output.shape.join() !== target.shape.join()) {
    throw new RangeError(
      `metrics need equal shapes, received [${output.shape}] and [${target.shape}]`,
    );
  }
  const t = tf.tidy(() => {
    const a =
      (output.rank === 3 ? output.expandDims(0) : output) as tf.Tensor4D;
    const b =
      (target.rank === 3 ? target.expandDims(0) : target) as tf.Tensor4D;
    const l1 = tf.mean(tf.abs(tf.sub(a, b)));
    // Pixels in [0, 255].
    const pa = tf.mul(tf.add(tf.clipByValue(a, -1, 1), 1), 127.5);
    const pb = tf.mul(tf.add(tf.clipByValue(b, -1, 1), 1), 127.5);
    const mse = tf.mean(tf.square(tf.sub(pa, pb)));
    const c = a.shape[3];
    const size = Math.min(11, a.shape[1], a.shape[2]);
    const win = gaussianWindow(size, 1.5, c);
    const blur = (x: tf.Tensor) =>
      tf.depthwiseConv2d(x as tf.Tensor4D, win, 1, "valid");
    const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2;
    const muA = blur(pa), muB = blur(pb);
    const sA = tf.sub(blur(tf.mul(pa, pa)), tf.mul(muA, muA));
    const sB = tf.sub(blur(tf.mul(pb, pb)), tf.mul(muB, muB));
    const sAB = tf.sub(blur(tf.mul(pa, pb)), tf.mul(muA, muB));
    const num = tf.mul(
      tf.add(tf.mul(2, tf.mul(muA, muB)), C1),
      tf.add(tf.mul(2, sAB), C2),
    );
    const den = tf.mul(
      tf.add(tf.add(tf.square(muA), tf.square(muB)), C1),
      tf.add(tf.add(sA, sB), C2),
    );
    const ssim = tf.mean(tf.div(num, den));
    return tf.stack([l1, mse, ssim]);
  });
  const [l1, mse, ssim] = await t.data();
  t.dispose();
  const psnr = mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
  return { l1, psnr, ssim };
}

/** Mean of each metric over the images. */
export function meanMetrics(rows: readonly ImageMetrics[]): ImageMetrics {
  const n = rows.length;
  const finite = rows.filter((r) => Number.isFinite(r.psnr));
  return {
    l1: rows.reduce((s, r) => s + r.l1, 0) / n,
    psnr: finite.length
      ? finite.reduce((s, r) => s + r.psnr, 0) / finite.length
      : Infinity,
    ssim: rows.reduce((s, r) => s + r.ssim, 0) / n,
  };
}
