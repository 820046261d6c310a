/**
 * The two networks a set of training options describes, checked before
 * anything is built: the U-Net's size against its depth, and the PatchGAN's
 * output, which must hold at least one patch.
 *
 * @module
 */
import {
  type DiscriminatorConfig,
  type GeneratorConfig,
  preset,
} from "@p2p/models";
import type { ResolvedTrainOptions } from "./options.ts";

/** The generator's and discriminator's configurations. */
export interface NetworkConfigs {
  /** The generator. */
  generator: GeneratorConfig;
  /** The discriminator. */
  discriminator: DiscriminatorConfig;
}

/** The U-Net depth of the options (`--depth`, else the one `--generator` names). */
export function unetDepth(o: ResolvedTrainOptions): number {
  if (o.depth !== null) return o.depth;
  return o.generator === "unet_128" ? 7 : 8;
}

/**
 * Side of a reference PatchGAN's output map for an input of side `size`:
 * `layers` stride-2 4×4 convolutions (padding 1) halve it, then two stride-1
 * 4×4 convolutions take one off each.
 */
export function patchOutputSide(size: number, layers: number): number {
  if (layers === 0) return size;
  return Math.floor(size / 2 ** layers) - 2;
}

function checkSizes(o: ResolvedTrainOptions, g: GeneratorConfig): void {
  if (g.kind === "unet" && o.preset !== "book") {
    const depth = g.depth ?? 8;
    if (o.size % 2 ** depth !== 0) {
      throw new RangeError(
        `--size ${o.size} is not divisible by 2^depth = ${
          2 ** depth
        } (--depth ${depth}); use a multiple of ${
          2 ** depth
        } or a smaller --depth`,
      );
    }
  }
}

function checkPatches(
  o: ResolvedTrainOptions,
  d: DiscriminatorConfig,
  depth: number,
): void {
  if (d.kind !== "patch" || d.padding === "same") return;
  const layers = d.layers ?? 3;
  if (patchOutputSide(o.size, layers) >= 1) return;
  const step = o.generator.startsWith("unet") ? 2 ** depth : 1;
  let smallest = step;
  while (patchOutputSide(smallest, layers) < 1) smallest += step;
  throw new RangeError(
    `the discriminator sees no patch at size ${o.size}: with ${layers} discriminator layers its output is ${
      Math.max(0, patchOutputSide(o.size, layers))
    }×${
      Math.max(0, patchOutputSide(o.size, layers))
    }, so training would have no adversarial term (U-Net depth ${depth}); the smallest size that works is ${smallest}, or use fewer discriminator layers`,
  );
}

/**
 * The networks of `o`: the preset's, with the generator, discriminator,
 * norm and dropout the options choose. Throws, naming the options at fault,
 * for a size the U-Net cannot take or a PatchGAN with no output patch.
 */
export function networkConfigs(o: ResolvedTrainOptions): NetworkConfigs {
  const depth = unetDepth(o);
  const p = preset(o.preset, {
    size: o.size,
    depth,
    ngf: o.ngf,
    ndf: o.ndf,
    inChannels: o.inChannels,
    outChannels: o.outChannels,
    seed: o.seed,
  });
  let generator: GeneratorConfig = p.generator;
  if (o.generator.startsWith("resnet")) {
    generator = {
      kind: "resnet",
      blocks: o.generator === "resnet_6blocks" ? 6 : 9,
      ngf: o.ngf,
      inChannels: o.inChannels,
      outChannels: o.outChannels,
      norm: o.norm,
      dropout: !o.noDropout,
      size: o.size,
      seed: o.seed,
    };
  } else if (generator.kind === "unet") {
    if (o.norm !== "batch") generator = { ...generator, norm: o.norm };
    if (o.noDropout) generator = { ...generator, dropout: "none" };
  }
  let discriminator = p.discriminator;
  if (discriminator.kind === "patch") {
    const layers = o.discriminator === "pixel"
      ? 0
      : o.discriminator === "n_layers"
      ? o.discriminatorLayers
      : discriminator.layers;
    if (layers !== discriminator.layers) {
      discriminator = { ...discriminator, layers };
    }
    if (o.norm !== "batch") discriminator = { ...discriminator, norm: o.norm };
  }
  checkSizes(o, generator);
  checkPatches(o, discriminator, depth);
  return { generator, discriminator };
}
