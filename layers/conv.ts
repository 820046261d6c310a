/**
 * 2-D convolution and transposed convolution with PyTorch-style integer
 * padding and the reference initialisation.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { convInitializer } from "./init.ts";

/** A symbolic tensor of a tfjs functional model under construction. */
export type SymbolicTensor = tf.SymbolicTensor;

/** Options of {@linkcode conv} and {@linkcode convTranspose}. */
export interface ConvOptions {
  /** Output channels. */
  filters: number;
  /** Square kernel side. @default 4 */
  kernelSize?: number;
  /** Stride. @default 2 */
  strides?: number;
  /**
   * Zero padding on each side, as PyTorch's `padding`, or tfjs `"same"` /
   * `"valid"`. A 4×4 stride-2 padding-1 convolution is computed as `"same"`
   * (identical for even sizes, and for every size when transposed).
   * @default 1
   */
  padding?: number | "same" | "valid";
  /** Whether the layer has a bias. @default true */
  bias?: boolean;
  /** Seed of the N(0, 0.02) weight initialiser. @default 0 */
  seed?: number;
  /** Layer name; a padding layer is named `<name>_pad`. @default generated */
  name?: string;
}

function checkFilters(options: ConvOptions): void {
  if (!Number.isInteger(options.filters) || options.filters < 1) {
    throw new RangeError(
      `conv filters must be a positive integer, received ${options.filters} (layer ${
        options.name ?? "unnamed"
      })`,
    );
  }
}

/** Applies a convolution (PyTorch `nn.Conv2d` semantics) to `x`. */
export function conv(x: SymbolicTensor, options: ConvOptions): SymbolicTensor {
  checkFilters(options);
  const k = options.kernelSize ?? 4;
  const s = options.strides ?? 2;
  const p = options.padding ?? 1;
  let padding: "same" | "valid";
  let input = x;
  if (typeof p === "string") padding = p;
  else if (p === 0) padding = "valid";
  else if (k === 4 && s === 2 && p === 1) padding = "same";
  else {
    padding = "valid";
    input = tf.layers.zeroPadding2d({
      padding: p,
      name: options.name ? `${options.name}_pad` : undefined,
    }).apply(x) as SymbolicTensor;
  }
  return tf.layers.conv2d({
    filters: options.filters,
    kernelSize: k,
    strides: s,
    padding,
    useBias: options.bias ?? true,
    kernelInitializer: convInitializer(options.seed ?? 0),
    biasInitializer: "zeros",
    name: options.name,
  }).apply(input) as SymbolicTensor;
}

/** Options of {@linkcode convTranspose}. */
export interface ConvTransposeOptions extends ConvOptions {
  /** Extra rows and columns added at the bottom and right, as PyTorch's `output_padding`. @default 0 */
  outputPadding?: number;
}

/**
 * Applies a transposed convolution (PyTorch `nn.ConvTranspose2d` semantics:
 * output side `(in - 1)·stride - 2·padding + kernel + outputPadding`).
 */
export function convTranspose(
  x: SymbolicTensor,
  options: ConvTransposeOptions,
): SymbolicTensor {
  checkFilters(options);
  const k = options.kernelSize ?? 4;
  const s = options.strides ?? 2;
  const p = options.padding ?? 1;
  const op = options.outputPadding ?? 0;
  const base = {
    filters: options.filters,
    kernelSize: k,
    strides: s,
    useBias: options.bias ?? true,
    kernelInitializer: convInitializer(options.seed ?? 0),
    biasInitializer: "zeros" as const,
    name: options.name,
  };
  if (typeof p === "string") {
    return tf.layers.conv2dTranspose({ ...base, padding: p }).apply(
      x,
    ) as SymbolicTensor;
  }
  if (k === 4 && s === 2 && p === 1 && op === 0) {
    return tf.layers.conv2dTranspose({ ...base, padding: "same" }).apply(
      x,
    ) as SymbolicTensor;
  }
  // Full ("valid") transposed conv, then crop `p` from the top/left and `p - op` from the bottom/right.
  const y = tf.layers.conv2dTranspose({ ...base, padding: "valid" }).apply(
    x,
  ) as SymbolicTensor;
  const end = p - op;
  if (end < 0) {
    throw new RangeError(
      `convTranspose outputPadding ${op} must not exceed padding ${p}`,
    );
  }
  if (p === 0 && end === 0) return y;
  return tf.layers.cropping2D({
    cropping: [[p, end], [p, end]],
    name: options.name ? `${options.name}_crop` : undefined,
  }).apply(y) as SymbolicTensor;
}
