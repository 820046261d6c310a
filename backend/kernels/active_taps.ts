/**
 * The taps of a convolution kernel that ever read the input: on small inputs
 * (the U-Net's innermost 2×2 → 1×1 layers) whole kernel rows and columns only
 * ever see zero padding, and the products can skip them (reading a quarter of
 * the weights there).
 *
 * @module
 */
import type { ConvGeometry } from "./im2col.ts";

/** Inclusive ranges of the kernel rows (`a`) and columns (`b`) that read the input. */
export interface ActiveTaps {
  /** First kernel row that reads the input for some output pixel. */
  a0: number;
  /** Last such kernel row. */
  a1: number;
  /** First kernel column that reads the input for some output pixel. */
  b0: number;
  /** Last such kernel column. */
  b1: number;
}

/** The kernel rows and columns of `g` that read the input for at least one output pixel. */
export function activeTaps(g: ConvGeometry): ActiveTaps {
  return {
    a0: Math.max(0, g.pt - (g.oh - 1) * g.sh),
    a1: Math.min(g.kh - 1, g.h - 1 + g.pt),
    b0: Math.max(0, g.pl - (g.ow - 1) * g.sw),
    b1: Math.min(g.kw - 1, g.w - 1 + g.pl),
  };
}

/**
 * `g` with its kernel cut to the active taps `t` (same output), or
 * `undefined` when every tap is active.
 */
export function prunedGeometry(
  g: ConvGeometry,
  t: ActiveTaps,
): ConvGeometry | undefined {
  const kh = t.a1 - t.a0 + 1;
  const kw = t.b1 - t.b0 + 1;
  if (kh === g.kh && kw === g.kw) return undefined;
  if (kh <= 0 || kw <= 0) return undefined;
  return { ...g, kh, kw, pt: g.pt - t.a0, pl: g.pl - t.b0 };
}
