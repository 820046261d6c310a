/**
 * Documented aliases of the tfjs types in `@p2p/train`'s public API, and the
 * types it shares with the other p2p packages.
 *
 * @module
 */
export type { DropoutState, NormKind } from "@p2p/layers";
export type {
  DiscriminatorConfig,
  DiscriminatorOutput,
  DropoutPlacement,
  GeneratorConfig,
  ImageDiscriminatorOptions,
  PatchDiscriminatorOptions,
  PresetName,
  ResnetGeneratorOptions,
  UnetOptions,
} from "@p2p/models";
export type { DatasetName, RngState } from "@p2p/data";

export type { AdamOptimizer } from "@p2p/backend";
export type { Scalar, Tensor, Tensor4D, Variable } from "@p2p/layers";
export type { LayersModel } from "@p2p/models";
