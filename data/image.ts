/**
 * Image I/O: PNG and JPEG in, PNG out (via imagescript), and conversion between
 * 8-bit pixel buffers and tensors in [-1, 1].
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ensureParent, writeFileAtomic } from "@p2p/internal";
import { decode, Image } from "imagescript";
import { decodePng } from "./png.ts";

/** A channel count: 1 (grey) or 3 (RGB). */
export type Channels = 1 | 3;

/** One image as a tensor `[height, width, channels]` (an alias of `tf.Tensor3D`). */
export type ImageTensor = tf.Tensor3D;
/** Images as a tensor `[n, height, width, channels]` (an alias of `tf.Tensor4D`). */
export type ImageBatch = tf.Tensor4D;

/** An 8-bit image, rows top to bottom, channels interleaved (HWC). */
export interface Pixels {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Channels per pixel: 1 (grey) or 3 (RGB). */
  readonly channels: Channels;
  /** `width * height * channels` bytes. */
  readonly data: Uint8Array;
}

/** Options for {@linkcode readImage} and {@linkcode decodeImage}. */
export interface ReadImageOptions {
  /** Channels of the result: 3 (RGB) or 1 (grey, PIL's `convert("L")` weights). @default {3} */
  channels?: Channels;
}

/**
 * Checks that `value` is a channel count of 1 or 3 and returns it; otherwise
 * throws an error naming `what` (e.g. `"inChannels"`).
 */
export function checkChannels(value: unknown, what: string): Channels {
  if (value !== 1 && value !== 3) {
    throw new Error(
      `${what}: expected a channel count of 1 (grey) or 3 (RGB), received ${
        JSON.stringify(value)
      }`,
    );
  }
  return value;
}

/** Allocates a black image. */
export function createPixels(
  width: number,
  height: number,
  channels: Channels,
): Pixels {
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width <= 0 ||
    height <= 0
  ) {
    throw new Error(
      `image size: expected positive integers, received ${width}x${height}`,
    );
  }
  checkChannels(channels, "image channels");
  return {
    width,
    height,
    channels,
    data: new Uint8Array(width * height * channels),
  };
}

/** Converts an image to 1 or 3 channels (grey uses PIL's `L = 0.299 R + 0.587 G + 0.114 B`). */
export function toChannels(image: Pixels, channels: Channels): Pixels {
  checkChannels(channels, "channels");
  if (image.channels === channels) return image;
  const n = image.width * image.height;
  const out = createPixels(image.width, image.height, channels);
  const src = image.data, dst = out.data;
  if (channels === 1) {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      dst[i] =
        (src[j] * 19595 + src[j + 1] * 38470 + src[j + 2] * 7471 + 0x8000) >>>
        16;
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      dst[j] = dst[j + 1] = dst[j + 2] = src[i];
    }
  }
  return out;
}

function fromRgba(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  channels: Channels,
): Pixels {
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3) {
    rgb[k] = rgba[j];
    rgb[k + 1] = rgba[j + 1];
    rgb[k + 2] = rgba[j + 2];
  }
  return toChannels({ width, height, channels: 3, data: rgb }, channels);
}

/**
 * Decodes PNG (our strict decoder, see png.ts) or JPEG (imagescript) bytes;
 * alpha is dropped, as PIL's `convert("RGB")` does.
 * `name` is used in error messages.
 */
export async function decodeImage(
  bytes: Uint8Array,
  name: string,
  options: ReadImageOptions = {},
): Promise<Pixels> {
  const channels = checkChannels(options.channels ?? 3, `${name}: channels`);
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 &&
    bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 &&
    bytes[2] === 0xff;
  if (!isPng && !isJpeg) {
    const what = bytes.length === 0
      ? "an empty file"
      : `${bytes.length} bytes with no PNG or JPEG signature`;
    throw new Error(
      `cannot read image '${name}': expected a PNG or JPEG file, received ${what}`,
    );
  }
  if (isPng) {
    let png;
    try {
      png = decodePng(bytes);
    } catch (e) {
      throw new Error(
        `cannot read image '${name}': ${(e as Error)?.message ?? e}`,
      );
    }
    return toChannels({
      width: png.width,
      height: png.height,
      channels: 3,
      data: png.rgb,
    }, channels);
  }
  let img: unknown;
  try {
    img = await decode(bytes, true);
  } catch (e) {
    throw new Error(
      `cannot read image '${name}': corrupt or truncated JPEG (${
        (e as Error)?.message ?? e
      })`,
    );
  }
  if (!(img instanceof Image) || img.width <= 0 || img.height <= 0) {
    throw new Error(`cannot read image '${name}': expected a still JPEG image`);
  }
  return fromRgba(img.bitmap, img.width, img.height, channels);
}

/** Reads a PNG or JPEG file; errors name the file and what was wrong. */
export async function readImage(
  path: string,
  options: ReadImageOptions = {},
): Promise<Pixels> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(
      `cannot read image '${path}': ${(e as Error)?.message ?? e}`,
    );
  }
  return await decodeImage(bytes, path, options);
}

/** Encodes an image as PNG bytes. */
export async function encodePng(image: Pixels): Promise<Uint8Array> {
  checkPixels(image, "encodePng");
  const n = image.width * image.height;
  const img = new Image(image.width, image.height);
  const dst = img.bitmap, src = image.data;
  if (image.channels === 3) {
    for (let i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3) {
      dst[j] = src[k];
      dst[j + 1] = src[k + 1];
      dst[j + 2] = src[k + 2];
      dst[j + 3] = 255;
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      dst[j] = dst[j + 1] = dst[j + 2] = src[i];
      dst[j + 3] = 255;
    }
  }
  return await img.encode(1);
}

function checkPixels(image: Pixels, what: string): void {
  const expected = image.width * image.height * image.channels;
  checkChannels(image.channels, `${what}: image channels`);
  if (image.data.length !== expected) {
    throw new Error(
      `${what}: a ${image.width}x${image.height}x${image.channels} image needs ${expected} bytes, received ${image.data.length}`,
    );
  }
}

/**
 * Writes a PNG atomically (temporary file, then rename), creating the parent
 * folder if needed. Accepts pixels, or a tensor in [-1, 1] shaped `[h, w, c]`
 * or `[1, h, w, c]` with c = 1 or 3 (mapped by `(x + 1) * 127.5`).
 */
export async function writeImage(
  path: string,
  image: Pixels | ImageTensor | ImageBatch,
): Promise<void> {
  const pixels = image instanceof tf.Tensor
    ? await tensorToImage(image)
    : image;
  await ensureParent(path);
  await writeFileAtomic(path, await encodePng(pixels));
}

/** Converts 8-bit pixels to a float32 tensor `[h, w, c]` in [-1, 1] (`v / 127.5 - 1`). */
export function imageToTensor(image: Pixels): ImageTensor {
  checkPixels(image, "imageToTensor");
  return tf.tensor3d(pixelsToFloat(image), [
    image.height,
    image.width,
    image.channels,
  ], "float32");
}

/** The pixel values of `image` as float32 in [-1, 1] (`v / 127.5 - 1`), HWC order. */
export function pixelsToFloat(image: Pixels): Float32Array {
  const src = image.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] / 127.5 - 1;
  return out;
}

/**
 * Converts a tensor in [-1, 1] shaped `[h, w, c]` or `[1, h, w, c]` (c = 1 or 3)
 * to 8-bit pixels with `round((x + 1) * 127.5)` clamped to [0, 255]. Async
 * because some backends (WebGPU) only read data asynchronously.
 */
export async function tensorToImage(
  tensor: ImageTensor | ImageBatch,
): Promise<Pixels> {
  const shape = tensor.shape;
  const ok3 = shape.length === 3;
  const ok4 = shape.length === 4 && shape[0] === 1;
  if (!ok3 && !ok4) {
    throw new Error(
      `tensorToImage: expected a tensor shaped [h, w, c] or [1, h, w, c], received [${
        shape.join(", ")
      }]`,
    );
  }
  const [h, w, c] = ok3 ? shape : shape.slice(1);
  const channels = checkChannels(
    c,
    `tensorToImage: tensor [${shape.join(", ")}] channels`,
  );
  const values = await tensor.data();
  const out = createPixels(w, h, channels);
  const dst = out.data;
  for (let i = 0; i < dst.length; i++) {
    const v = Math.round((values[i] + 1) * 127.5);
    dst[i] = v > 255 ? 255 : v > 0 ? v : 0; // NaN -> 0
  }
  return out;
}

/** Places images side by side (all must share height and channels), e.g. an AB pair or a sample grid row. */
export function concatHorizontal(images: readonly Pixels[]): Pixels {
  if (images.length === 0) {
    throw new Error("concatHorizontal: expected at least one image");
  }
  const { height, channels } = images[0];
  for (const im of images) {
    if (im.height !== height || im.channels !== channels) {
      throw new Error(
        `concatHorizontal: expected images of height ${height} with ${channels} channel(s), received ${im.width}x${im.height}x${im.channels}`,
      );
    }
  }
  const width = images.reduce((s, im) => s + im.width, 0);
  const out = createPixels(width, height, channels);
  let x0 = 0;
  for (const im of images) {
    const rowBytes = im.width * channels;
    for (let y = 0; y < height; y++) {
      out.data.set(
        im.data.subarray(y * rowBytes, (y + 1) * rowBytes),
        (y * width + x0) * channels,
      );
    }
    x0 += im.width;
  }
  return out;
}
