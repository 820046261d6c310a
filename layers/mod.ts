/**
 * Building blocks of pix2pix networks on tfjs-layers: the U-Net encoder and
 * decoder blocks, convolutions with PyTorch-style padding, normalisation by
 * name (BatchNorm with PyTorch's eps and momentum, InstanceNorm), reflection
 * padding, seeded dropout and the reference initialisers.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { decoderBlock, encoderBlock } from "@p2p/layers";
 *
 * const x = tf.input({ shape: [32, 32, 3] });
 * const e1 = encoderBlock(x, { filters: 4, activation: "none", norm: "none" });
 * const e2 = encoderBlock(e1, { filters: 8 });
 * const d1 = decoderBlock(e2, { filters: 4, skip: e1 });
 * const model = tf.model({ inputs: x, outputs: d1 });
 * console.log(model.outputs[0].shape); // [null, 16, 16, 8]
 * ```
 *
 * @module
 */
export { type SeedSequence, seedSequence } from "./init.ts";
export * from "./conv.ts";
export * from "./norm.ts";
export * from "./batch_norm.ts";
export * from "./batch_norm_train.ts";
export * from "./activation.ts";
export * from "./leaky_relu_grad.ts";
export * from "./encoder_block.ts";
export * from "./decoder_block.ts";
export {
  instanceNormalization,
  type InstanceNormalizationOptions,
} from "./instance_norm.ts";
export {
  reflectionPadding2d,
  type ReflectionPadding2DOptions,
} from "./reflection_padding.ts";
export {
  attachDropoutStream,
  type DropoutState,
  DropoutStream,
  dropoutStreamOf,
  getDropoutState,
  seededDropout,
  type SeededDropoutOptions,
  setDropoutSeed,
  setDropoutState,
} from "./seeded_dropout.ts";
export * from "./types.ts";
