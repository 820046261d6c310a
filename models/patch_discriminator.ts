/**
 * The PatchGAN discriminator of pix2pix (`basic` = 70×70 at `layers: 3`,
 * `pixel` = 1×1 at `layers: 0`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  activate,
  biasBeforeNorm,
  checkNorm,
  conv,
  normalize,
  type NormKind,
  seedSequence,
  type SymbolicTensor,
} from "@p2p/layers";
import type { LayersModel } from "./unet.ts";

/** What a discriminator outputs: logits (reference; the sigmoid is in the loss) or probabilities. */
export type DiscriminatorOutput = "logits" | "sigmoid";

/** Options of {@linkcode patchDiscriminator}. */
export interface PatchDiscriminatorOptions {
  /** Stride-2 layers; 3 is the 70×70 PatchGAN, 0 the 1×1 PixelGAN. @default 3 */
  layers?: number;
  /** Filters of the first layer; layer i has ndf·min(2^i, 8). @default 64 */
  ndf?: number;
  /** Channels of the source (condition) image. @default 3 */
  sourceChannels?: number;
  /** Channels of the target (real or generated) image. @default 3 */
  targetChannels?: number;
  /** Normalisation. @default "batch" */
  norm?: NormKind;
  /** Convolution biases: `reference` (only where no BatchNorm follows) or `all`. @default "reference" */
  bias?: "reference" | "all";
  /** Padding: `reference` (1 on every side, PyTorch) or `same` (tfjs/Keras `'same'`). @default "reference" */
  padding?: "reference" | "same";
  /** Output: logits or sigmoid probabilities. @default "logits" */
  output?: DiscriminatorOutput;
  /** Fixed input side; `null` accepts any. @default null */
  size?: number | null;
  /** Seed of the weight initialisers. @default 0 */
  seed?: number;
  /** Model name. @default "patch_discriminator" */
  name?: string;
}

/** The two inputs of a conditional discriminator and their channel concatenation `[source, target]`. */
export interface ConditionalPair {
  /** The source (condition) image input. */
  source: SymbolicTensor;
  /** The target (real or generated) image input. */
  target: SymbolicTensor;
  /** `[source, target]` concatenated on channels, in that order (PyTorch's `cat((real_A, fake_B), 1)`). */
  pair: SymbolicTensor;
}

/** Creates the inputs `source` and `target` of a conditional discriminator and their concatenation. */
export function conditionalPair(
  size: number | null,
  sourceChannels: number,
  targetChannels: number,
): ConditionalPair {
  const source = tf.input({
    shape: [size, size, sourceChannels],
    name: "source",
  });
  const target = tf.input({
    shape: [size, size, targetChannels],
    name: "target",
  });
  const pair = tf.layers.concatenate({ axis: -1, name: "concat" }).apply([
    source,
    target,
  ]) as tf.SymbolicTensor;
  return { source, target, pair };
}

/**
 * The receptive field, in pixels, of one output of a PatchGAN with `layers`
 * stride-2 layers: 1, 16, 34, 70, 142, 286 for 0…5.
 *
 * @example
 * ```ts
 * import { receptiveField } from "@p2p/models";
 * receptiveField(3); // 70
 * ```
 */
export function receptiveField(layers: number): number {
  if (!Number.isInteger(layers) || layers < 0) {
    throw new RangeError(
      `layers must be a non-negative integer, received ${layers}`,
    );
  }
  if (layers === 0) return 1;
  // Kernels of 4; strides 2 (×layers), then 1, 1.
  const strides = [...Array(layers).fill(2), 1, 1];
  let rf = 1;
  let jump = 1;
  for (const s of strides) {
    rf += 3 * jump;
    jump *= s;
  }
  return rf;
}

/**
 * Builds the conditional PatchGAN: inputs `[source, target]`, concatenated on
 * channels in that order, to a map of per-patch logits (30×30 for a 256×256
 * input at `layers: 3`).
 *
 * @example
 * ```ts
 * import { patchDiscriminator } from "@p2p/models";
 * const d = patchDiscriminator({ ndf: 4, size: 32 });
 * console.log(d.outputs[0].shape); // [null, 2, 2, 1]
 * ```
 */
export function patchDiscriminator(
  options: PatchDiscriminatorOptions = {},
): LayersModel {
  const layers = options.layers ?? 3;
  const ndf = options.ndf ?? 64;
  const norm = checkNorm(options.norm ?? "batch", "patchDiscriminator norm");
  const allBias = (options.bias ?? "reference") === "all";
  const same = (options.padding ?? "reference") === "same";
  const output = options.output ?? "logits";
  if (!Number.isInteger(layers) || layers < 0) {
    throw new RangeError(
      `patchDiscriminator layers must be an integer ≥ 0, received ${layers}`,
    );
  }
  if (!Number.isInteger(ndf) || ndf < 1) {
    throw new RangeError(
      `patchDiscriminator ndf must be a positive integer, received ${ndf}`,
    );
  }
  if (output !== "logits" && output !== "sigmoid") {
    throw new RangeError(
      `patchDiscriminator output must be "logits" or "sigmoid", received "${output}"`,
    );
  }
  const size = options.size ?? null;
  const seed = seedSequence(options.seed ?? 1);
  const { source, target, pair } = conditionalPair(
    size,
    options.sourceChannels ?? 3,
    options.targetChannels ?? 3,
  );
  let h = pair;
  const normBias = allBias || biasBeforeNorm(norm);

  if (layers === 0) {
    // PixelGAN: 1×1 convolutions.
    h = conv(h, {
      filters: ndf,
      kernelSize: 1,
      strides: 1,
      padding: 0,
      bias: true,
      seed: seed(),
      name: "l1_conv",
    });
    h = activate(h, "leakyRelu", "l1_act");
    h = conv(h, {
      filters: ndf * 2,
      kernelSize: 1,
      strides: 1,
      padding: 0,
      bias: normBias,
      seed: seed(),
      name: "l2_conv",
    });
    h = normalize(h, norm, { seed: seed(), name: "l2_norm" });
    h = activate(h, "leakyRelu", "l2_act");
    h = conv(h, {
      filters: 1,
      kernelSize: 1,
      strides: 1,
      padding: 0,
      bias: normBias,
      seed: seed(),
      name: "out_conv",
    });
  } else {
    const pad = same ? "same" as const : 1;
    h = conv(h, {
      filters: ndf,
      kernelSize: 4,
      strides: 2,
      padding: pad,
      bias: true,
      seed: seed(),
      name: "l1_conv",
    });
    h = activate(h, "leakyRelu", "l1_act");
    for (let n = 1; n <= layers; n++) {
      const stride = n < layers ? 2 : 1;
      const filters = ndf * Math.min(2 ** n, 8);
      h = conv(h, {
        filters,
        kernelSize: 4,
        strides: stride,
        padding: pad,
        bias: normBias,
        seed: seed(),
        name: `l${n + 1}_conv`,
      });
      h = normalize(h, norm, { seed: seed(), name: `l${n + 1}_norm` });
      h = activate(h, "leakyRelu", `l${n + 1}_act`);
    }
    h = conv(h, {
      filters: 1,
      kernelSize: 4,
      strides: 1,
      padding: pad,
      bias: true,
      seed: seed(),
      name: "out_conv",
    });
  }
  if (output === "sigmoid") h = activate(h, "sigmoid", "output");
  return tf.model({
    inputs: [source, target],
    outputs: h,
    name: options.name ?? "patch_discriminator",
  });
}
