/**
 * The U-Net encoder block of the reference: activation → 4×4 stride-2
 * convolution → normalisation (→ dropout).
 *
 * @module
 */
import { conv, type SymbolicTensor } from "./conv.ts";
import { biasBeforeNorm, normalize, type NormKind } from "./norm.ts";
import { activate, type ActivationKind } from "./activation.ts";
import { seededDropout } from "./seeded_dropout.ts";

/** Options of {@linkcode encoderBlock}. */
export interface EncoderBlockOptions {
  /** Output channels. */
  filters: number;
  /** Normalisation after the convolution. @default "batch" */
  norm?: NormKind;
  /** Activation applied to the block's input, before the convolution. @default "leakyRelu" */
  activation?: ActivationKind;
  /** Dropout rate after the normalisation; 0 for none. @default 0 */
  dropout?: number;
  /** Whether the convolution has a bias. @default true unless norm is "batch" */
  bias?: boolean;
  /** Kernel side. @default 4 */
  kernelSize?: number;
  /** Stride. @default 2 */
  strides?: number;
  /** Seed of the initialisers. @default 0 */
  seed?: number;
  /** Prefix of the layer names (`<name>_conv`, `<name>_norm`, …). @default generated */
  name?: string;
}

/**
 * Appends an encoder block to `x` and returns its output.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { encoderBlock } from "@p2p/layers";
 * const x = tf.input({ shape: [32, 32, 3] });
 * const y = encoderBlock(x, { filters: 8 });
 * console.log(y.shape); // [null, 16, 16, 8]
 * ```
 */
export function encoderBlock(
  x: SymbolicTensor,
  options: EncoderBlockOptions,
): SymbolicTensor {
  const norm = options.norm ?? "batch";
  const n = options.name;
  const seed = options.seed ?? 0;
  let y = activate(x, options.activation ?? "leakyRelu", n && `${n}_act`);
  y = conv(y, {
    filters: options.filters,
    kernelSize: options.kernelSize ?? 4,
    strides: options.strides ?? 2,
    padding: 1,
    bias: options.bias ?? biasBeforeNorm(norm),
    seed,
    name: n && `${n}_conv`,
  });
  y = normalize(y, norm, { seed: seed + 500_000, name: n && `${n}_norm` });
  if (options.dropout) {
    y = seededDropout({ rate: options.dropout, name: n && `${n}_drop` })
      .apply(y) as SymbolicTensor;
  }
  return y;
}
