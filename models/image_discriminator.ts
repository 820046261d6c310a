/**
 * A whole-image discriminator: stride-2 4×4 convolutions down to 1×1,
 * flatten, dense softmax over {fake, real} (the `book` preset).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  activate,
  checkNorm,
  conv,
  normalize,
  type NormKind,
  seedSequence,
} from "@p2p/layers";
import type { LayersModel } from "./unet.ts";
import { conditionalPair } from "./patch_discriminator.ts";

/** Options of {@linkcode imageDiscriminator}. */
export interface ImageDiscriminatorOptions {
  /** Input side; the image is reduced by 2^convs, so it must be divisible by it. @default 256 */
  size?: number;
  /** Filters of each convolution. @default [64, 128, 256, 512, 512, 512, 512, 512] */
  filters?: number[];
  /** Channels of the source image. @default 3 */
  sourceChannels?: number;
  /** Channels of the target image. @default 3 */
  targetChannels?: number;
  /** Normalisation from the second convolution on. @default "batch" */
  norm?: NormKind;
  /** Seed of the weight initialisers. @default 0 */
  seed?: number;
  /** Model name. @default "image_discriminator" */
  name?: string;
}

/**
 * Builds the whole-image discriminator. Output: `[batch, 2]` softmax
 * probabilities (index 1 = real).
 */
export function imageDiscriminator(
  options: ImageDiscriminatorOptions = {},
): LayersModel {
  const size = options.size ?? 256;
  const filters = options.filters ?? [64, 128, 256, 512, 512, 512, 512, 512];
  const norm = checkNorm(options.norm ?? "batch", "imageDiscriminator norm");
  const divisor = 2 ** filters.length;
  if (!Number.isInteger(size) || size % divisor !== 0) {
    throw new RangeError(
      `imageDiscriminator size ${size} is not divisible by 2^${filters.length} = ${divisor}`,
    );
  }
  const seed = seedSequence(options.seed ?? 2);
  const { source, target, pair } = conditionalPair(
    size,
    options.sourceChannels ?? 3,
    options.targetChannels ?? 3,
  );
  let h = pair;
  filters.forEach((f, i) => {
    h = conv(h, {
      filters: f,
      kernelSize: 4,
      strides: 2,
      padding: "same",
      bias: true,
      seed: seed(),
      name: `l${i + 1}_conv`,
    });
    if (i > 0) h = normalize(h, norm, { seed: seed(), name: `l${i + 1}_norm` });
    h = activate(h, "leakyRelu", `l${i + 1}_act`);
  });
  h = tf.layers.flatten({ name: "flatten" }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({
    units: 2,
    activation: "softmax",
    kernelInitializer: tf.initializers.randomNormal({
      mean: 0,
      stddev: 0.02,
      seed: seed(),
    }),
    name: "output",
  }).apply(h) as tf.SymbolicTensor;
  return tf.model({
    inputs: [source, target],
    outputs: h,
    name: options.name ?? "image_discriminator",
  });
}
