/**
 * Minimal typed-array drawing used by the procedural data sets: a float RGB
 * canvas (0–255 scale) with rectangle fills driven by small shader callbacks.
 *
 * @module
 */
import { createPixels, type Pixels } from "./image.ts";

/** An RGB triple on the 0–255 scale (may leave that range before {@linkcode Canvas.toPixels}). */
export type Rgb = readonly [number, number, number];

/** An axis-aligned rectangle in pixels: x0 ≤ x < x1, y0 ≤ y < y1. */
export interface Rect {
  /** Left edge (inclusive). */
  readonly x0: number;
  /** Top edge (inclusive). */
  readonly y0: number;
  /** Right edge (exclusive). */
  readonly x1: number;
  /** Bottom edge (exclusive). */
  readonly y1: number;
}

/** Per-pixel colour callback: `(x, y, u, v, out)` with u, v ∈ [0, 1] across the rect; write RGB into `out`. */
export type Shader = (
  x: number,
  y: number,
  u: number,
  v: number,
  out: Float32Array,
) => void;

/** A float RGB image being drawn. */
export class Canvas {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Interleaved RGB, 0–255 scale. */
  readonly rgb: Float32Array;
  #tmp = new Float32Array(3);

  /** A black canvas. */
  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.rgb = new Float32Array(width * height * 3);
  }

  /** The rect clipped to the canvas. */
  clip(r: Rect): Rect {
    return {
      x0: Math.max(0, Math.min(this.width, Math.round(r.x0))),
      y0: Math.max(0, Math.min(this.height, Math.round(r.y0))),
      x1: Math.max(0, Math.min(this.width, Math.round(r.x1))),
      y1: Math.max(0, Math.min(this.height, Math.round(r.y1))),
    };
  }

  /** Fills a rect with one colour. */
  fill(r: Rect, c: Rgb): void {
    const { x0, y0, x1, y1 } = this.clip(r);
    const d = this.rgb;
    for (let y = y0; y < y1; y++) {
      for (let x = x0, i = (y * this.width + x0) * 3; x < x1; x++, i += 3) {
        d[i] = c[0];
        d[i + 1] = c[1];
        d[i + 2] = c[2];
      }
    }
  }

  /** Fills a rect with a shader; u, v run over the unclipped rect. */
  shade(r: Rect, shader: Shader): void {
    const c = this.clip(r);
    const w = Math.max(1, r.x1 - r.x0 - 1), h = Math.max(1, r.y1 - r.y0 - 1);
    const d = this.rgb, t = this.#tmp;
    for (let y = c.y0; y < c.y1; y++) {
      const v = (y - r.y0) / h;
      for (
        let x = c.x0, i = (y * this.width + c.x0) * 3;
        x < c.x1;
        x++, i += 3
      ) {
        t[0] = d[i];
        t[1] = d[i + 1];
        t[2] = d[i + 2];
        shader(x, y, (x - r.x0) / w, v, t);
        d[i] = t[0];
        d[i + 1] = t[1];
        d[i + 2] = t[2];
      }
    }
  }

  /** Multiplies a rect by `k` (shadows). */
  scale(r: Rect, k: number): void {
    const { x0, y0, x1, y1 } = this.clip(r);
    const d = this.rgb;
    for (let y = y0; y < y1; y++) {
      for (
        let i = (y * this.width + x0) * 3, e = (y * this.width + x1) * 3;
        i < e;
        i++
      ) d[i] *= k;
    }
  }

  /** Rounds and clamps to 8-bit RGB pixels. */
  toPixels(): Pixels {
    const out = createPixels(this.width, this.height, 3);
    const s = this.rgb, o = out.data;
    for (let i = 0; i < s.length; i++) {
      const v = Math.round(s[i]);
      o[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    return out;
  }
}

/** A class-id map with rectangle fills, rendered to colours through a palette. */
export class LabelMap {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** One class id per pixel. */
  readonly ids: Uint8Array;

  /** A map filled with class 0. */
  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.ids = new Uint8Array(width * height);
  }

  /** Sets every pixel of the (clipped) rect to `id`. */
  fill(r: Rect, id: number): void {
    const x0 = Math.max(0, Math.round(r.x0)),
      x1 = Math.min(this.width, Math.round(r.x1));
    const y0 = Math.max(0, Math.round(r.y0)),
      y1 = Math.min(this.height, Math.round(r.y1));
    for (let y = y0; y < y1; y++) {
      if (x1 > x0) this.ids.fill(id, y * this.width + x0, y * this.width + x1);
    }
  }

  /** Renders to RGB pixels with `palette[id]`. */
  toPixels(palette: readonly Rgb[]): Pixels {
    const out = createPixels(this.width, this.height, 3);
    const o = out.data;
    for (let i = 0; i < this.ids.length; i++) {
      const c = palette[this.ids[i]];
      o[3 * i] = c[0];
      o[3 * i + 1] = c[1];
      o[3 * i + 2] = c[2];
    }
    return out;
  }
}

/** Linear interpolation between colours, written into `out`. */
export function mix(a: Rgb, b: Rgb, t: number, out: Float32Array): void {
  out[0] = a[0] + (b[0] - a[0]) * t;
  out[1] = a[1] + (b[1] - a[1]) * t;
  out[2] = a[2] + (b[2] - a[2]) * t;
}

/** Smooth value noise on a coarse random grid, sampled bilinearly; values in [-1, 1]. */
export class ValueNoise {
  #grid: Float32Array;
  #n: number;
  #size: number;

  /** `cells` grid cells across an image of `size` pixels; `random` yields [0, 1). */
  constructor(size: number, cells: number, random: () => number) {
    this.#n = cells + 1;
    this.#size = size;
    this.#grid = new Float32Array(this.#n * this.#n);
    for (let i = 0; i < this.#grid.length; i++) {
      this.#grid[i] = random() * 2 - 1;
    }
  }

  /** Noise at pixel (x, y). */
  at(x: number, y: number): number {
    const cells = this.#n - 1;
    const fx = x / this.#size * cells, fy = y / this.#size * cells;
    const ix = Math.min(cells - 1, Math.floor(fx)),
      iy = Math.min(cells - 1, Math.floor(fy));
    const tx = fx - ix, ty = fy - iy, g = this.#grid, n = this.#n;
    const a = g[iy * n + ix], b = g[iy * n + ix + 1];
    const c = g[(iy + 1) * n + ix], d = g[(iy + 1) * n + ix + 1];
    return (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
  }
}
