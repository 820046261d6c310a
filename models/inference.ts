/**
 * Running a generator on images of any size: reflect-pad to a multiple of
 * 2^depth, translate, crop back.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor4D } from "@p2p/layers";
import type { LayersModel } from "./unet.ts";
import type { GeneratorConfig } from "./presets.ts";

/** The side multiple a generator needs: 2^depth for a U-Net, 4 for a ResNet. */
export function sizeMultiple(config: GeneratorConfig): number {
  return config.kind === "unet" ? 2 ** (config.depth ?? 8) : 4;
}

/**
 * How a generator runs at test time: `paper` exactly as in training (dropout
 * on, batch statistics, as the paper and the reference without `--eval`),
 * `eval` with dropout off and running statistics.
 */
export type InferenceMode = "paper" | "eval";

/** Valid {@linkcode InferenceMode} values. */
export const INFERENCE_MODES: readonly InferenceMode[] = ["paper", "eval"];

/** Options of {@linkcode translate}. */
export interface TranslateOptions {
  /** Inference mode. @default "paper" */
  mode?: InferenceMode;
  /** Height and width are padded to a multiple of this (2^depth for a U-Net). @default 1 */
  multiple?: number;
}

/** Reflect-pads a `[b, h, w, c]` tensor by `top, bottom, left, right`, even past the image side. */
export function reflectPad(
  x: Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): Tensor4D {
  return tf.tidy(() => {
    let y = x;
    // A 1-pixel side cannot be reflected: repeat it instead.
    if (y.shape[1] === 1 && top + bottom > 0) {
      y = tf.tile(y, [1, 1 + top + bottom, 1, 1]);
      top = bottom = 0;
    }
    if (y.shape[2] === 1 && left + right > 0) {
      y = tf.tile(y, [1, 1, 1 + left + right, 1]);
      left = right = 0;
    }
    // mirrorPad's reflect mode needs pad < side: pad in rounds for small images.
    while (top > 0 || bottom > 0 || left > 0 || right > 0) {
      const maxV = y.shape[1] - 1, maxH = y.shape[2] - 1;
      const t = Math.min(top, maxV), b = Math.min(bottom, maxV);
      const l = Math.min(left, maxH), r = Math.min(right, maxH);
      y = tf.mirrorPad(y, [[0, 0], [t, b], [l, r], [0, 0]], "reflect");
      top -= t;
      bottom -= b;
      left -= l;
      right -= r;
    }
    return y;
  });
}

/**
 * Translates a batch `[b, h, w, inChannels]` in [-1, 1] of any size: pads to
 * a multiple of `multiple` by reflection (centred), runs the generator in the
 * given mode, crops back to `h × w`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { translate, unet } from "@p2p/models";
 * const g = unet({ depth: 5, ngf: 2 });
 * const y = translate(g, tf.zeros([1, 40, 50, 3]), { multiple: 32, mode: "eval" });
 * console.log(y.shape); // [1, 40, 50, 3]
 * ```
 */
export function translate(
  generator: LayersModel,
  x: Tensor4D,
  options: TranslateOptions = {},
): Tensor4D {
  const mode = options.mode ?? "paper";
  if (!INFERENCE_MODES.includes(mode)) {
    throw new RangeError(`mode must be "paper" or "eval", received "${mode}"`);
  }
  const m = options.multiple ?? 1;
  if (x.rank !== 4) {
    throw new RangeError(
      `translate expects a [batch, height, width, channels] tensor, received shape [${x.shape}]`,
    );
  }
  const want = generator.inputs[0].shape[3];
  if (want != null && x.shape[3] !== want) {
    throw new RangeError(
      `the generator takes ${want}-channel images, received ${
        x.shape[3]
      } channels`,
    );
  }
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const H = Math.ceil(h / m) * m, W = Math.ceil(w / m) * m;
    const top = Math.floor((H - h) / 2), left = Math.floor((W - w) / 2);
    const padded = H === h && W === w
      ? x
      : reflectPad(x, top, H - h - top, left, W - w - left);
    const y = generator.apply(padded, {
      training: mode === "paper",
    }) as tf.Tensor4D;
    return H === h && W === w
      ? y
      : tf.slice(y, [0, top, left, 0], [-1, h, w, -1]);
  });
}
