/**
 * Helpers shared by this package's tests (not exported from mod.ts).
 *
 * @module
 */
import { type Channels, createPixels, type Pixels } from "./image.ts";

/** Builds an image whose channel `c` at (x, y) is `f(x, y, c)` (rounded, clamped). */
export function makeImage(
  width: number,
  height: number,
  f: (x: number, y: number, c: number) => number,
  channels: Channels = 3,
): Pixels {
  const im = createPixels(width, height, channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        im.data[(y * width + x) * channels + c] = Math.max(
          0,
          Math.min(255, Math.round(f(x, y, c))),
        );
      }
    }
  }
  return im;
}

/** A gradient whose red encodes x and green encodes y (blue constant), so positions can be read back. */
export function coordImage(width: number, height: number): Pixels {
  return makeImage(
    width,
    height,
    (x, y, c) => (c === 0 ? x * 3 : c === 1 ? y * 3 : 128),
  );
}

/** Pixel (x, y) of an image as an array of its channels. */
export function pixelAt(im: Pixels, x: number, y: number): number[] {
  const i = (y * im.width + x) * im.channels;
  return Array.from(im.data.subarray(i, i + im.channels));
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "p2p_data_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
