/**
 * The U-Net decoder block of the reference: activation → 4×4 stride-2
 * transposed convolution → normalisation → dropout, then the skip
 * connection concatenated in PyTorch's order `[skip, output]`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { convTranspose, type SymbolicTensor } from "./conv.ts";
import { biasBeforeNorm, normalize, type NormKind } from "./norm.ts";
import { activate, type ActivationKind } from "./activation.ts";
import { seededDropout } from "./seeded_dropout.ts";

/** Options of {@linkcode decoderBlock}. */
export interface DecoderBlockOptions {
  /** Output channels of the transposed convolution. */
  filters: number;
  /** Normalisation after the transposed convolution. @default "batch" */
  norm?: NormKind;
  /** Activation applied to the block's input. @default "relu" */
  activation?: ActivationKind;
  /** Dropout rate after the normalisation; 0 for none. @default 0 */
  dropout?: number;
  /** Whether the transposed convolution has a bias. @default true unless norm is "batch" */
  bias?: boolean;
  /** Skip connection concatenated before the output on channels; none when null. @default null */
  skip?: SymbolicTensor | null;
  /** Seed of the initialisers. @default 0 */
  seed?: number;
  /** Prefix of the layer names (`<name>_tconv`, `<name>_norm`, …). @default generated */
  name?: string;
}

/**
 * Appends a decoder block to `x` and returns its output (with the skip
 * concatenated when given).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { decoderBlock } from "@p2p/layers";
 * const x = tf.input({ shape: [8, 8, 16] });
 * const skip = tf.input({ shape: [16, 16, 4] });
 * const y = decoderBlock(x, { filters: 4, skip });
 * console.log(y.shape); // [null, 16, 16, 8]
 * ```
 */
export function decoderBlock(
  x: SymbolicTensor,
  options: DecoderBlockOptions,
): SymbolicTensor {
  const norm = options.norm ?? "batch";
  const n = options.name;
  const seed = options.seed ?? 0;
  let y = activate(x, options.activation ?? "relu", n && `${n}_act`);
  y = convTranspose(y, {
    filters: options.filters,
    kernelSize: 4,
    strides: 2,
    padding: 1,
    bias: options.bias ?? biasBeforeNorm(norm),
    seed,
    name: n && `${n}_tconv`,
  });
  y = normalize(y, norm, { seed: seed + 500_000, name: n && `${n}_norm` });
  if (options.dropout) {
    y = seededDropout({ rate: options.dropout, name: n && `${n}_drop` })
      .apply(y) as SymbolicTensor;
  }
  if (options.skip) {
    y = tf.layers.concatenate({ axis: -1, name: n && `${n}_cat` }).apply([
      options.skip,
      y,
    ]) as SymbolicTensor;
  }
  return y;
}
