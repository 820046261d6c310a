/**
 * Preprocessing and training jitter, as the PyTorch reference's
 * `base_dataset.get_params` / `get_transform`: resize (bicubic) to `loadSize`,
 * one random `cropSize` crop, a horizontal flip with p 0.5 — the same
 * parameters applied to A and B so the pair stays aligned.
 *
 * @module
 */
import { oneOf } from "@p2p/internal";
import type { Pixels } from "./image.ts";
import { crop, flipHorizontal, resizeBicubic } from "./resize.ts";
import type { Rng } from "./rng.ts";

/** How images are resized and cropped (the reference's `--preprocess`). */
export type Preprocess =
  | "resize_and_crop"
  | "crop"
  | "scale_width"
  | "scale_width_and_crop"
  | "none";

/** Every {@linkcode Preprocess} mode. */
export const PREPROCESS_MODES: readonly Preprocess[] = [
  "resize_and_crop",
  "crop",
  "scale_width",
  "scale_width_and_crop",
  "none",
];

/** Options of the preprocessing / jitter transform. */
export interface TransformOptions {
  /** Resize and crop mode. @default {"resize_and_crop"} */
  preprocess?: Preprocess;
  /** Size images are scaled to before cropping (`resize`: square; `scale_width`: the width). @default {286} */
  loadSize?: number;
  /** Side of the random square crop. @default {256} */
  cropSize?: number;
  /** Never flip (the random draw still happens, so sequences stay aligned). @default {false} */
  noFlip?: boolean;
}

/** {@linkcode TransformOptions} with every default filled in. */
export interface ResolvedTransformOptions {
  /** Resize and crop mode. */
  readonly preprocess: Preprocess;
  /** Size images are scaled to before cropping. */
  readonly loadSize: number;
  /** Side of the square crop. */
  readonly cropSize: number;
  /** Never flip. */
  readonly noFlip: boolean;
}

/** The random part of one jitter: crop corner and flip, shared by A and B. */
export interface TransformParams {
  /** Left edge of the crop in the resized image. */
  readonly x: number;
  /** Top edge of the crop in the resized image. */
  readonly y: number;
  /** Whether both images are mirrored. */
  readonly flip: boolean;
}

/** The reference's load size for a crop size: `round(cropSize * 286 / 256)` (64 → 72, 256 → 286). */
export function defaultLoadSize(cropSize: number): number {
  return Math.round(cropSize * 286 / 256);
}

function positiveInt(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new Error(
      `${what}: expected a positive integer, received ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Fills defaults and validates; errors name the option and the value received. */
export function resolveTransformOptions(
  options: TransformOptions = {},
): ResolvedTransformOptions {
  const preprocess = oneOf(
    "preprocess",
    options.preprocess ?? "resize_and_crop",
    PREPROCESS_MODES,
  );
  const cropSize = positiveInt(options.cropSize ?? 256, "cropSize");
  const loadSize = positiveInt(
    options.loadSize ?? defaultLoadSize(cropSize),
    "loadSize",
  );
  if (
    preprocess.includes("crop") && preprocess !== "crop" && loadSize < cropSize
  ) {
    throw new Error(
      `loadSize: expected at least cropSize (${cropSize}) with preprocess ${preprocess}, received ${loadSize}`,
    );
  }
  return { preprocess, loadSize, cropSize, noFlip: options.noFlip ?? false };
}

function makePower2Size(w: number, h: number, base = 4): [number, number] {
  // reference __make_power_2: int(round(x / base) * base); Python rounds half to even
  const r = (v: number): number => {
    const q = v / base, f = Math.floor(q), d = q - f;
    const n = d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
    return Math.max(base, n * base);
  };
  return [r(w), r(h)];
}

/** The size an image of `width`×`height` has after the resize step (before the crop). */
export function resizedSize(
  width: number,
  height: number,
  options: ResolvedTransformOptions,
): [number, number] {
  const { preprocess, loadSize, cropSize } = options;
  if (preprocess === "resize_and_crop") return [loadSize, loadSize];
  if (preprocess === "scale_width" || preprocess === "scale_width_and_crop") {
    if (width === loadSize && height >= cropSize) return [width, height];
    return [
      loadSize,
      Math.max(Math.trunc(loadSize * height / width), cropSize),
    ];
  }
  if (preprocess === "none") return makePower2Size(width, height);
  return [width, height];
}

/** The size of a `width`×`height` image after the whole transform. */
export function transformedSize(
  width: number,
  height: number,
  options: ResolvedTransformOptions,
): [number, number] {
  const [w, h] = resizedSize(width, height, options);
  return options.preprocess.includes("crop")
    ? [options.cropSize, options.cropSize]
    : [w, h];
}

/**
 * Draws jitter parameters for an image of `width`×`height` (reference
 * `get_params`): crop corner uniform over every position, flip with p 0.5.
 * Always consumes exactly three draws from `rng`.
 */
export function drawTransformParams(
  width: number,
  height: number,
  options: ResolvedTransformOptions,
  rng: Rng,
): TransformParams {
  const [w, h] = resizedSize(width, height, options);
  const x = rng.int(Math.max(0, w - options.cropSize) + 1);
  const y = rng.int(Math.max(0, h - options.cropSize) + 1);
  const flip = rng.next() > 0.5;
  return { x, y, flip };
}

/**
 * The deterministic (evaluation) parameters: centred crop, no flip. Use with
 * {@linkcode evalTransformOptions} for the reference's test-time behaviour.
 */
export function centerTransformParams(
  width: number,
  height: number,
  options: ResolvedTransformOptions,
): TransformParams {
  const [w, h] = resizedSize(width, height, options);
  return {
    x: Math.floor(Math.max(0, w - options.cropSize) / 2),
    y: Math.floor(Math.max(0, h - options.cropSize) / 2),
    flip: false,
  };
}

/**
 * Test-time options, as the reference's `TestOptions` (load size = crop
 * size, no flip): `resize_and_crop` then resizes straight to `cropSize`.
 */
export function evalTransformOptions(
  options: ResolvedTransformOptions,
): ResolvedTransformOptions {
  return { ...options, loadSize: options.cropSize, noFlip: true };
}

/**
 * Applies resize, crop and flip with the given parameters. Throws (naming
 * `name`) when the crop does not fit the resized image.
 */
export function applyTransform(
  image: Pixels,
  params: TransformParams,
  options: ResolvedTransformOptions & { name?: string },
): Pixels {
  const [w, h] = resizedSize(image.width, image.height, options);
  let out = resizeBicubic(image, w, h);
  if (options.preprocess.includes("crop")) {
    const size = options.cropSize;
    if (w < size || h < size) {
      throw new Error(
        `${
          options.name ?? "image"
        }: ${w}x${h} after preprocess ${options.preprocess} is smaller than cropSize ${size}`,
      );
    }
    out = crop(out, params.x, params.y, size, size);
  }
  if (params.flip && !options.noFlip) out = flipHorizontal(out);
  return out;
}
