/**
 * Network configurations by name, and the factories that build a network
 * from its configuration (the configuration travels with checkpoints).
 *
 * @module
 */
import { oneOf } from "@p2p/internal";
import { type LayersModel, unet, type UnetOptions } from "./unet.ts";
import {
  resnetGenerator,
  type ResnetGeneratorOptions,
} from "./resnet_generator.ts";
import {
  patchDiscriminator,
  type PatchDiscriminatorOptions,
} from "./patch_discriminator.ts";
import {
  imageDiscriminator,
  type ImageDiscriminatorOptions,
} from "./image_discriminator.ts";

/** A generator configuration: the factory's name and its options. */
export type GeneratorConfig =
  | ({ kind: "unet" } & UnetOptions)
  | ({ kind: "resnet" } & ResnetGeneratorOptions);

/** A discriminator configuration: the factory's name and its options. */
export type DiscriminatorConfig =
  | ({ kind: "patch" } & PatchDiscriminatorOptions)
  | ({ kind: "image" } & ImageDiscriminatorOptions);

/** Builds the generator a configuration describes. */
export function buildGenerator(config: GeneratorConfig): LayersModel {
  const { kind, ...options } = config;
  switch (kind) {
    case "unet":
      return unet(options as UnetOptions);
    case "resnet":
      return resnetGenerator(options as ResnetGeneratorOptions);
    default:
      throw new RangeError(
        `generator kind must be "unet" or "resnet", received "${kind}"`,
      );
  }
}

/** Builds the discriminator a configuration describes. */
export function buildDiscriminator(config: DiscriminatorConfig): LayersModel {
  const { kind, ...options } = config;
  switch (kind) {
    case "patch":
      return patchDiscriminator(options as PatchDiscriminatorOptions);
    case "image":
      return imageDiscriminator(options as ImageDiscriminatorOptions);
    default:
      throw new RangeError(
        `discriminator kind must be "patch" or "image", received "${kind}"`,
      );
  }
}

/** Names of the built-in presets. */
export type PresetName = "reference" | "keras" | "neptune" | "book";

/** Valid {@linkcode PresetName} values. */
export const PRESET_NAMES: readonly PresetName[] = [
  "reference",
  "keras",
  "neptune",
  "book",
];

/** A pair of network configurations. */
export interface Preset {
  /** The generator. */
  generator: GeneratorConfig;
  /** The discriminator. */
  discriminator: DiscriminatorConfig;
}

/** Options of {@linkcode preset}: sizes that override the preset's. */
export interface PresetOptions {
  /** Image side; `null` leaves the networks size-agnostic where they can be. @default 256 */
  size?: number | null;
  /** U-Net depth. @default 8 */
  depth?: number;
  /** Generator filters. @default 64 */
  ngf?: number;
  /** Discriminator filters. @default 64 */
  ndf?: number;
  /** Input (source) channels. @default 3 */
  inChannels?: number;
  /** Output (target) channels. @default 3 */
  outChannels?: number;
  /** Seed of the weight initialisers. @default 0 */
  seed?: number;
}

/**
 * The configurations of a named system:
 * - `reference`: the PyTorch reference (unet_256 without redundant biases, 70×70 PatchGAN, logits).
 * - `keras`: the Keras from-scratch tutorial (all biases, `'same'` padding, an extra stride-2 layer in D, sigmoid; 16×16 at 256).
 * - `neptune`: the PyTorch walkthrough (all biases, 70×70 PatchGAN with sigmoid).
 * - `book`: the Keras generator with a whole-image discriminator (8 stride-2 convs, dense softmax over 2).
 *
 * @example
 * ```ts
 * import { buildGenerator, preset } from "@p2p/models";
 * const p = preset("reference", { size: 32, depth: 5, ngf: 4, ndf: 4 });
 * const g = buildGenerator(p.generator);
 * console.log(g.countParams() > 0); // true
 * ```
 */
export function preset(name: PresetName, options: PresetOptions = {}): Preset {
  oneOf("preset", name, PRESET_NAMES);
  const size = options.size === undefined ? 256 : options.size;
  const common = {
    size,
    inChannels: options.inChannels ?? 3,
    outChannels: options.outChannels ?? 3,
  };
  const g: GeneratorConfig = {
    kind: "unet",
    depth: options.depth ?? 8,
    ngf: options.ngf ?? 64,
    inChannels: common.inChannels,
    outChannels: common.outChannels,
    norm: "batch",
    dropout: "paper",
    bias: name === "reference" ? "reference" : "all",
    size,
    seed: options.seed ?? 0,
  };
  const ndf = options.ndf ?? 64;
  const d0 = {
    ndf,
    sourceChannels: common.inChannels,
    targetChannels: common.outChannels,
    norm: "batch" as const,
    size,
    seed: (options.seed ?? 0) + 1,
  };
  let d: DiscriminatorConfig;
  switch (name) {
    case "reference":
      d = {
        kind: "patch",
        layers: 3,
        bias: "reference",
        padding: "reference",
        output: "logits",
        ...d0,
      };
      break;
    case "keras":
      d = {
        kind: "patch",
        layers: 4,
        bias: "all",
        padding: "same",
        output: "sigmoid",
        ...d0,
      };
      break;
    case "neptune":
      d = {
        kind: "patch",
        layers: 3,
        bias: "all",
        padding: "reference",
        output: "sigmoid",
        ...d0,
      };
      break;
    case "book": {
      const factor = ndf / 64;
      d = {
        kind: "image",
        size: size ?? 256,
        filters: [64, 128, 256, 512, 512, 512, 512, 512].map((f) =>
          Math.max(1, Math.round(f * factor))
        ),
        sourceChannels: d0.sourceChannels,
        targetChannels: d0.targetChannels,
        norm: "batch",
        seed: d0.seed,
      };
      break;
    }
  }
  return { generator: g, discriminator: d };
}
