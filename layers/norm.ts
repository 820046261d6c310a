/**
 * Normalisation layers by name, with the PyTorch reference's constants.
 *
 * @module
 */
import { oneOf } from "@p2p/internal";
import { batchNormalization } from "./batch_norm.ts";
import { gammaInitializer } from "./init.ts";
import { InstanceNormalization } from "./instance_norm.ts";
import type { SymbolicTensor } from "./conv.ts";

/** Normalisation kinds: BatchNorm, InstanceNorm (no affine) or none. */
export type NormKind = "batch" | "instance" | "none";

/** Options of {@linkcode normalize}. */
export interface NormalizeOptions {
  /** Seed of the γ ~ N(1, 0.02) initialiser. @default 0 */
  seed?: number;
  /** Layer name. @default generated */
  name?: string;
}

/** Valid {@linkcode NormKind} values. */
export const NORM_KINDS: readonly NormKind[] = ["batch", "instance", "none"];

/** Throws a clear error unless `kind` is a {@linkcode NormKind}. */
export function checkNorm(kind: string, where = "norm"): NormKind {
  return oneOf(where, kind, NORM_KINDS);
}

/**
 * Applies the named normalisation to `x`. BatchNorm uses PyTorch's eps 1e-5
 * and momentum 0.1 (tfjs `momentum: 0.9`), and its training branch runs the
 * fused `batchNormTrain` (see `batch_norm.ts`).
 */
export function normalize(
  x: SymbolicTensor,
  kind: NormKind,
  options: NormalizeOptions = {},
): SymbolicTensor {
  switch (checkNorm(kind)) {
    case "batch":
      return batchNormalization({
        axis: -1,
        epsilon: 1e-5,
        momentum: 0.9,
        gammaInitializer: gammaInitializer(options.seed ?? 0),
        betaInitializer: "zeros",
        name: options.name,
      }).apply(x) as SymbolicTensor;
    case "instance":
      return new InstanceNormalization({ name: options.name }).apply(
        x,
      ) as SymbolicTensor;
    case "none":
      return x;
  }
}

/** Whether a convolution followed by `kind` needs a bias (PyTorch: only with instance norm or none). */
export function biasBeforeNorm(kind: NormKind): boolean {
  return kind !== "batch";
}
