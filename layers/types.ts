/**
 * Documented aliases of the tfjs types that p2p's public API mentions.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** A tfjs tensor. */
export type Tensor = tf.Tensor;
/** A tfjs 3-D tensor `[height, width, channels]`. */
export type Tensor3D = tf.Tensor3D;
/** A tfjs 4-D tensor `[batch, height, width, channels]`. */
export type Tensor4D = tf.Tensor4D;
/** A tfjs scalar. */
export type Scalar = tf.Scalar;
/** A tfjs variable. */
export type Variable = tf.Variable;
/** A tfjs shape: dimensions, `null` where unknown. */
export type Shape = tf.Shape;
/** A tfjs serialization config object. */
export type ConfigDict = tf.serialization.ConfigDict;
/** The tfjs-layers base layer class. */
export type Layer = tf.layers.Layer;
/** A tfjs serializable object, such as a tfjs-layers initializer. */
export type Serializable = tf.serialization.Serializable;
