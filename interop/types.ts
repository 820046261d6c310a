/**
 * Documented aliases of the tfjs types in `@p2p/interop`'s public API, and
 * the types it shares with the other p2p packages.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

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

/** A tfjs functional model (an alias of `tf.LayersModel`). */
export type LayersModel = tf.LayersModel;
