/**
 * Documented aliases of the tfjs types in `@p2p/interop`'s public API, and
 * the types it shares with the other p2p packages.
 *
 * @module
 */
export type { NormKind } from "@p2p/layers";
export type {
  DiscriminatorConfig,
  DiscriminatorOutput,
  DropoutPlacement,
  GeneratorConfig,
  ImageDiscriminatorOptions,
  PatchDiscriminatorOptions,
  ResnetGeneratorOptions,
  UnetOptions,
} from "@p2p/models";

export type { LayersModel } from "@p2p/models";
