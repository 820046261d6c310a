/**
 * A model as in-memory tfjs LayersModel artifacts, the one serialisation
 * shared by training checkpoints and the tfjs export: the topology with
 * p2p's `SeededDropout` written as a plain tfjs `Dropout` (same semantics at
 * inference), the weight specs, and the weights as one byte array.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { LayersModel } from "./unet.ts";

type TopologyLayer = { class_name?: string; config?: Record<string, unknown> };

/** A weight spec of tfjs's weights manifest (an alias of `tf.io.WeightsManifestEntry`). */
export type WeightSpec = tf.io.WeightsManifestEntry;

/** A model's artifacts, as {@linkcode modelArtifacts} returns them. */
export interface ModelArtifacts {
  /** The topology, with p2p's custom dropout as tfjs `Dropout`. */
  topology: unknown;
  /** The weight specs, in the order of `weights`. */
  weightSpecs: WeightSpec[];
  /** All weights, concatenated. */
  weights: Uint8Array;
  /** The tfjs version that produced them. */
  generatedBy: string | undefined;
}

/** The topology with p2p's custom dropout as tfjs `Dropout` (same semantics at inference). */
export function portableTopology(topology: unknown): unknown {
  const copy = structuredClone(topology) as {
    config?: { layers?: TopologyLayer[] };
  };
  for (const layer of copy?.config?.layers ?? []) {
    if (layer.class_name === "SeededDropout") {
      layer.class_name = "Dropout";
      layer.config = { ...layer.config, noise_shape: null, seed: null };
    }
  }
  return copy;
}

/**
 * Serialises `model` in memory with tfjs's own `model.save`.
 *
 * @example
 * ```ts
 * import { modelArtifacts, unet } from "@p2p/models";
 * const a = await modelArtifacts(unet({ depth: 4, ngf: 2, size: 16 }));
 * console.log(a.weights.length > 0, a.weightSpecs[0].name); // true e1_conv/kernel
 * ```
 */
export async function modelArtifacts(
  model: LayersModel,
): Promise<ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((a) => {
    artifacts = a;
    return Promise.resolve({
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    });
  }));
  const a = artifacts!;
  return {
    topology: portableTopology(a.modelTopology),
    weightSpecs: a.weightSpecs ?? [],
    weights: a.weightData === undefined
      ? new Uint8Array(0)
      : new Uint8Array(tf.io.CompositeArrayBuffer.join(a.weightData)),
    generatedBy: a.generatedBy,
  };
}
