/**
 * The reference's other weight initialisations (`init_weights` of its
 * `networks.py`, `--init_type` / `--init_gain`), applied to a built model:
 * every convolution, transposed convolution and dense kernel drawn anew,
 * their biases set to 0, and BatchNorm's γ drawn from N(1, gain) and β set to
 * 0. The networks are built with `normal` at gain 0.02 already; this is for
 * the others.
 *
 * Fans follow PyTorch's weight layout, which p2p's kernels mirror: a kernel
 * `[kh, kw, a, b]` has fan-in `a·kh·kw` and fan-out `b·kh·kw` (for a
 * transposed convolution PyTorch's own quirk: its fan-in counts the output
 * channels, and so does p2p's `a`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { oneOf } from "@p2p/internal";
import type { LayersModel } from "./unet.ts";

/** The reference's `--init_type` values. */
export type InitType = "normal" | "xavier" | "kaiming" | "orthogonal";

/** Valid {@linkcode InitType} values. */
export const INIT_TYPES: readonly InitType[] = [
  "normal",
  "xavier",
  "kaiming",
  "orthogonal",
];

/** Options of {@linkcode initializeWeights}. */
export interface InitOptions {
  /** The method. @default "normal" */
  type?: InitType;
  /** Scale: the std of `normal`, the gain of `xavier` and `orthogonal` (unused by `kaiming`). @default 0.02 */
  gain?: number;
  /** Seed of the draws. @default 0 */
  seed?: number;
}

function fans(shape: number[]): [number, number] {
  if (shape.length === 2) return [shape[0], shape[1]];
  const field = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * field, shape[shape.length - 1] * field];
}

/** An orthogonal kernel in p2p's layout: PyTorch's `[b, a·kh·kw]` rows made orthonormal, times `gain`. */
function orthogonal(shape: number[], gain: number, seed: number): tf.Tensor {
  return tf.tidy(() => {
    const rows = shape[shape.length - 1];
    const cols = shape.reduce((a, b) => a * b, 1) / rows;
    const tall = rows < cols;
    const flat = tf.randomNormal(
      tall ? [cols, rows] : [rows, cols],
      0,
      1,
      "float32",
      seed,
    );
    const [q, r] = tf.linalg.qr(flat);
    // Sign fix as PyTorch: q · sign(diag(r)).
    const d = tf.sign(tf.sum(tf.mul(r, tf.eye(r.shape[0], r.shape[1])), 0));
    let w = tf.mul(q, d) as tf.Tensor2D;
    if (tall) w = tf.transpose(w); // [rows, cols]
    // PyTorch row k is output channel k over (a, kh, kw); p2p's layout is [kh, kw, a, b].
    const field = shape.slice(0, -2);
    const a = shape[shape.length - 2];
    const torch = tf.reshape(w, [rows, a, ...field]);
    const perm = shape.length === 4 ? [2, 3, 1, 0] : [1, 0];
    return tf.mul(tf.transpose(torch, perm), gain);
  });
}

/** How one weight is drawn (`null`: left as it is, e.g. BatchNorm's running statistics). */
function drawFor(
  name: string,
  shape: number[],
  type: InitType,
  gain: number,
  seed: number,
): (() => tf.Tensor) | null {
  if (/\/kernel$/.test(name) && shape.length >= 2) {
    if (type === "orthogonal") return () => orthogonal(shape, gain, seed);
    const [fanIn, fanOut] = fans(shape);
    const std = type === "normal"
      ? gain
      : type === "xavier"
      ? gain * Math.sqrt(2 / (fanIn + fanOut))
      : Math.sqrt(2 / fanIn);
    return () => tf.randomNormal(shape, 0, std, "float32", seed);
  }
  if (/\/gamma$/.test(name)) {
    return () => tf.randomNormal(shape, 1, gain, "float32", seed);
  }
  if (/\/(bias|beta)$/.test(name)) return () => tf.zeros(shape);
  return null;
}

/**
 * Draws `model`'s weights anew as the reference's `init_weights` does.
 *
 * @example
 * ```ts
 * import { initializeWeights, unet } from "@p2p/models";
 * const g = unet({ depth: 4, ngf: 2, size: 16 });
 * initializeWeights(g, { type: "xavier", gain: 0.02, seed: 1 });
 * ```
 */
export function initializeWeights(
  model: LayersModel,
  options: InitOptions = {},
): void {
  const type = oneOf("init type", options.type ?? "normal", INIT_TYPES);
  const gain = options.gain ?? 0.02;
  if (!(Number.isFinite(gain) && gain > 0)) {
    throw new RangeError(`init gain must be a number > 0, received ${gain}`);
  }
  let seed = Math.trunc(options.seed ?? 0) * 1_000_003;
  for (const w of model.weights) {
    const shape = w.shape as number[];
    const name = w.originalName;
    seed++;
    const draw = drawFor(name, shape, type, gain, seed);
    if (draw === null) continue;
    const value = tf.tidy(draw);
    w.write(value);
    value.dispose();
  }
}
