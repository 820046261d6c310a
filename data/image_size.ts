/**
 * The pixel limit on decoded images: a PNG or JPEG declares its size in its
 * header, so an image too large to decode safely (a small file can claim
 * 30000×30000) is refused from the header, before a byte of pixels is
 * allocated.
 *
 * @module
 */

/** The default largest image, in pixels (width × height): 50 megapixels. */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/** The environment variable that raises (or lowers) the pixel limit. */
export const MAX_PIXELS_ENV = "P2P_MAX_PIXELS";

/** An image's declared size. */
export interface ImageSize {
  /** The container format. */
  format: "png" | "jpeg";
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/**
 * The pixel limit in force: {@linkcode MAX_PIXELS_ENV} when set to a positive
 * integer, else {@linkcode DEFAULT_MAX_PIXELS}. A malformed value is an error
 * naming the variable.
 */
export function maxPixelsFromEnv(): number {
  let raw: string | undefined;
  try {
    raw = Deno.env.get(MAX_PIXELS_ENV);
  } catch {
    raw = undefined; // no --allow-env: the default
  }
  if (raw === undefined || raw.trim() === "") return DEFAULT_MAX_PIXELS;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new RangeError(
      `${MAX_PIXELS_ENV} must be a positive integer (pixels), received "${raw}"`,
    );
  }
  return n;
}

function u16be(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

/** The size a PNG's IHDR declares, or `null` when the header is not there. */
function pngSize(bytes: Uint8Array): ImageSize | null {
  if (bytes.length < 24) return null;
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (type !== "IHDR") return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { format: "png", width: dv.getUint32(16), height: dv.getUint32(20) };
}

/**
 * The size a JPEG's frame header (SOF) declares, or `null` when there is
 * none before the scan; with several SOFs (a crafted file), the largest.
 */
function jpegSize(bytes: Uint8Array): ImageSize | null {
  let found: ImageSize | null = null;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) break; // not at a marker: corrupt
    const marker = bytes[i + 1];
    if (marker === 0xff) { // fill byte
      i++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // standalone markers
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // EOI, or the scan starts
    const len = u16be(bytes, i + 2);
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 &&
      marker !== 0xc8 && marker !== 0xcc;
    if (sof && i + 9 <= bytes.length) {
      const size: ImageSize = {
        format: "jpeg",
        height: u16be(bytes, i + 5),
        width: u16be(bytes, i + 7),
      };
      if (!found || size.width * size.height > found.width * found.height) {
        found = size;
      }
    }
    if (len < 2) break;
    i += 2 + len;
  }
  return found;
}

/**
 * The size declared in the header of PNG or JPEG bytes (nothing is decoded),
 * or `null` for other bytes or a header that is cut short.
 *
 * @example
 * ```ts
 * import { imageSize } from "@p2p/data";
 * const png = new Uint8Array(33);
 * png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
 * new DataView(png.buffer).setUint32(16, 30000);
 * new DataView(png.buffer).setUint32(20, 20000);
 * console.log(imageSize(png)); // { format: "png", width: 30000, height: 20000 }
 * ```
 */
export function imageSize(bytes: Uint8Array): ImageSize | null {
  if (
    bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 &&
    bytes[2] === 0x4e && bytes[3] === 0x47
  ) {
    return pngSize(bytes);
  }
  if (
    bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 &&
    bytes[2] === 0xff
  ) {
    return jpegSize(bytes);
  }
  return null;
}

/**
 * Refuses an image whose header declares more than `limit` pixels; the
 * message names the image, its size and the limit, and how to raise it.
 */
export function checkImageSize(
  bytes: Uint8Array,
  name: string,
  limit: number = maxPixelsFromEnv(),
): ImageSize | null {
  const size = imageSize(bytes);
  if (size && size.width * size.height > limit) {
    throw new RangeError(
      `image '${name}' is ${size.width}×${size.height} (${
        (size.width * size.height / 1e6).toFixed(1)
      } megapixels), above the limit of ${limit} pixels (${
        (limit / 1e6).toFixed(1)
      } megapixels); refused before decoding. Set ${MAX_PIXELS_ENV} to raise the limit`,
    );
  }
  return size;
}
