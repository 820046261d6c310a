/**
 * pix2pix networks on tfjs-layers: the U-Net and ResNet generators, the
 * PatchGAN and whole-image discriminators, presets that reproduce known
 * systems, and factories that build a network from its configuration.
 *
 * Files: `unet.ts`, `resnet_generator.ts`, `patch_discriminator.ts`,
 * `image_discriminator.ts` (the networks), `presets.ts` (named systems and
 * `buildGenerator` / `buildDiscriminator`), `inference.ts` (translate),
 * `metrics.ts`, `serialize.ts` (the in-memory tfjs artifacts that checkpoints
 * and the tfjs export both write).
 *
 * @example
 * ```ts
 * import { patchDiscriminator, receptiveField, unet } from "@p2p/models";
 *
 * const g = unet({ depth: 5, ngf: 4, size: 32 });
 * const d = patchDiscriminator({ layers: 3, ndf: 4, size: 32 });
 * console.log(g.outputs[0].shape, d.outputs[0].shape, receptiveField(3));
 * // [null, 32, 32, 3] [null, 2, 2, 1] 70
 * ```
 *
 * @module
 */
export * from "./unet.ts";
export * from "./resnet_generator.ts";
export * from "./patch_discriminator.ts";
export * from "./image_discriminator.ts";
export * from "./presets.ts";
export * from "./inference.ts";
export * from "./metrics.ts";
export * from "./serialize.ts";
export * from "./init_weights.ts";
export type { NormKind, SymbolicTensor, Tensor, Tensor4D } from "@p2p/layers";
