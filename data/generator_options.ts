/**
 * Options and result types shared by the procedural data set generators.
 *
 * @module
 */
import type { Pixels } from "./image.ts";

/** A generated pair: A and B as RGB pixels, with a file-friendly name. */
export interface GeneratedPair {
  /** Name such as `"000012"` (the pair's index, zero-padded). */
  readonly name: string;
  /** The A image (model input for AtoB). */
  readonly a: Pixels;
  /** The B image. */
  readonly b: Pixels;
}

/** Options of the procedural generators. */
export interface GenerateOptions {
  /** Image side in pixels (at least 16). @default {256} */
  size?: number;
  /** Seed; the same seed gives the same pairs. @default {0} */
  seed?: number;
  /** Index of the first pair: pair `i` depends only on (`seed`, `i`, `size`), not on `count`. @default {0} */
  start?: number;
}

/** Checks generator options; errors name the option and the value. */
export function resolveGenerateOptions(
  count: number,
  options: GenerateOptions,
): { size: number; seed: number; start: number } {
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(
      `count: expected a non-negative integer, received ${
        JSON.stringify(count)
      }`,
    );
  }
  const size = options.size ?? 256;
  if (!Number.isInteger(size) || size < 16 || size > 4096) {
    throw new Error(
      `size: expected an integer from 16 to 4096, received ${
        JSON.stringify(size)
      }`,
    );
  }
  const seed = options.seed ?? 0;
  if (typeof seed !== "number" || !Number.isFinite(seed)) {
    throw new Error(
      `seed: expected a finite number, received ${JSON.stringify(seed)}`,
    );
  }
  const start = options.start ?? 0;
  if (!Number.isInteger(start) || start < 0) {
    throw new Error(
      `start: expected a non-negative integer, received ${
        JSON.stringify(start)
      }`,
    );
  }
  return { size, seed, start };
}

/** Zero-padded pair name for index `i`. */
export function pairName(i: number): string {
  return String(i).padStart(6, "0");
}
