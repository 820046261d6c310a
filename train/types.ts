/**
 * Documented aliases of the tfjs types in `@p2p/train`'s public API, and the
 * types it shares with the other p2p packages.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

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

/** A tfjs tensor (an alias of `tf.Tensor`). */
export type Tensor = tf.Tensor;
/** A tfjs scalar (an alias of `tf.Scalar`). */
export type Scalar = tf.Scalar;
/** A tfjs 4-D tensor (an alias of `tf.Tensor4D`). */
export type Tensor4D = tf.Tensor4D;
/** A tfjs functional model (an alias of `tf.LayersModel`). */
export type LayersModel = tf.LayersModel;
/** The tfjs Adam optimizer (an alias of `tf.AdamOptimizer`). */
export type AdamOptimizer = tf.AdamOptimizer;
/** A tfjs variable (an alias of `tf.Variable`). */
export type Variable = tf.Variable;
