/**
 * Geometric operations on 8-bit {@linkcode Pixels}: bicubic resize, crop and
 * horizontal flip.
 *
 * imagescript 1.3.1's public `Image.resize` offers only nearest-neighbour, so
 * the resize here is our own: PIL's `Image.resize(…, BICUBIC)` algorithm (Keys
 * cubic, a = -0.5, support widened when shrinking so downscaling is
 * antialiased; a horizontal pass then a vertical one, each rounded to 8 bits),
 * which is what torchvision's `Resize` does in the PyTorch reference.
 *
 * @module
 */
import { createPixels, type Pixels } from "./image.ts";

function cubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  ksize: number;
  weights: Float32Array;
}

function computeTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * ksize);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const n = xmax - xmin;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const w = cubic((k + xmin - center + 0.5) / filterScale);
      weights[i * ksize + k] = w;
      total += w;
    }
    if (total !== 0) {
      for (let k = 0; k < n; k++) weights[i * ksize + k] /= total;
    }
    start[i] = xmin;
    count[i] = n;
  }
  return { start, count, ksize, weights };
}

function clamp8(v: number): number {
  const r = Math.round(v);
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/** Resizes with PIL-compatible bicubic interpolation (see the module doc). */
export function resizeBicubic(
  image: Pixels,
  width: number,
  height: number,
): Pixels {
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width <= 0 ||
    height <= 0
  ) {
    throw new Error(
      `resizeBicubic: expected a positive integer size, received ${width}x${height}`,
    );
  }
  if (width === image.width && height === image.height) return image;
  const c = image.channels;
  let cur = image;
  if (width !== image.width) {
    const t = computeTaps(image.width, width);
    const out = createPixels(width, image.height, c);
    const src = cur.data, dst = out.data, inW = image.width;
    for (let y = 0; y < image.height; y++) {
      const row = y * inW * c;
      for (let x = 0; x < width; x++) {
        const s = t.start[x], n = t.count[x], wo = x * t.ksize;
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let k = 0; k < n; k++) {
            acc += src[row + (s + k) * c + ch] * t.weights[wo + k];
          }
          dst[(y * width + x) * c + ch] = clamp8(acc);
        }
      }
    }
    cur = out;
  }
  if (height !== cur.height) {
    const t = computeTaps(cur.height, height);
    const out = createPixels(width, height, c);
    const src = cur.data, dst = out.data, rowLen = width * c;
    const acc = new Float64Array(rowLen);
    for (let y = 0; y < height; y++) {
      acc.fill(0);
      const s = t.start[y], n = t.count[y], wo = y * t.ksize;
      for (let k = 0; k < n; k++) {
        const w = t.weights[wo + k], base = (s + k) * rowLen;
        for (let i = 0; i < rowLen; i++) acc[i] += src[base + i] * w;
      }
      const o = y * rowLen;
      for (let i = 0; i < rowLen; i++) dst[o + i] = clamp8(acc[i]);
    }
    cur = out;
  }
  return cur;
}

/**
 * Crops a `width`×`height` window whose top-left corner is (`x`, `y`). The
 * window must lie inside the image.
 */
export function crop(
  image: Pixels,
  x: number,
  y: number,
  width: number,
  height: number,
): Pixels {
  if (
    !Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 ||
    width <= 0 || height <= 0 ||
    x + width > image.width || y + height > image.height
  ) {
    throw new Error(
      `crop: window ${width}x${height} at (${x}, ${y}) does not fit in a ${image.width}x${image.height} image`,
    );
  }
  if (x === 0 && y === 0 && width === image.width && height === image.height) {
    return image;
  }
  const c = image.channels;
  const out = createPixels(width, height, c);
  for (let r = 0; r < height; r++) {
    const from = ((y + r) * image.width + x) * c;
    out.data.set(image.data.subarray(from, from + width * c), r * width * c);
  }
  return out;
}

/** Mirrors an image left to right. */
export function flipHorizontal(image: Pixels): Pixels {
  const { width, height, channels: c } = image;
  const out = createPixels(width, height, c);
  const src = image.data, dst = out.data;
  for (let y = 0; y < height; y++) {
    const row = y * width * c;
    for (let x = 0; x < width; x++) {
      const s = row + x * c, d = row + (width - 1 - x) * c;
      for (let ch = 0; ch < c; ch++) dst[d + ch] = src[s + ch];
    }
  }
  return out;
}
