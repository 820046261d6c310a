/**
 * The ResNet generator of the reference (`resnet_9blocks`, `resnet_6blocks`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  activate,
  biasBeforeNorm,
  checkNorm,
  conv,
  convTranspose,
  normalize,
  type NormKind,
  reflectionPadding2d,
  seededDropout,
  seedSequence,
  type SymbolicTensor,
} from "@p2p/layers";
import type { LayersModel } from "./unet.ts";

/** Options of {@linkcode resnetGenerator}. */
export interface ResnetGeneratorOptions {
  /** Residual blocks at the bottleneck (9 for 256×256, 6 for 128×128). @default 9 */
  blocks?: number;
  /** Filters of the first layer. @default 64 */
  ngf?: number;
  /** Input channels. @default 3 */
  inChannels?: number;
  /** Output channels. @default 3 */
  outChannels?: number;
  /** Normalisation. @default "batch" */
  norm?: NormKind;
  /** Dropout 0.5 inside residual blocks (pix2pix's default). @default true */
  dropout?: boolean;
  /** Fixed input side (a multiple of 4); `null` accepts any. @default null */
  size?: number | null;
  /** Seed of the weight initialisers. @default 0 */
  seed?: number;
  /** Model name. @default "resnet_generator" */
  name?: string;
}

/**
 * Builds the ResNet generator: c7s1-ngf, two stride-2 downsamplings, residual
 * blocks with reflection padding, two upsamplings, c7s1-out, tanh.
 *
 * @example
 * ```ts
 * import { resnetGenerator } from "@p2p/models";
 * const g = resnetGenerator({ blocks: 2, ngf: 4, size: 32 });
 * console.log(g.outputs[0].shape); // [null, 32, 32, 3]
 * ```
 */
export function resnetGenerator(
  options: ResnetGeneratorOptions = {},
): LayersModel {
  const blocks = options.blocks ?? 9;
  const ngf = options.ngf ?? 64;
  const norm = checkNorm(options.norm ?? "batch", "resnetGenerator norm");
  const bias = biasBeforeNorm(norm);
  if (!Number.isInteger(blocks) || blocks < 0) {
    throw new RangeError(
      `resnetGenerator blocks must be an integer ≥ 0, received ${blocks}`,
    );
  }
  const size = options.size ?? null;
  if (size !== null && (!Number.isInteger(size) || size % 4 !== 0)) {
    throw new RangeError(`resnetGenerator size ${size} is not divisible by 4`);
  }
  const seed = seedSequence(options.seed ?? 0);
  const x = tf.input({
    shape: [size, size, options.inChannels ?? 3],
    name: "input",
  });
  // Reflection padding of (k - 1) / 2, then a stride-1 "valid" convolution.
  const reflectConv = (
    t: SymbolicTensor,
    filters: number,
    k: number,
    padName: string,
    convName: string,
    useBias: boolean,
  ): SymbolicTensor => {
    const padded = reflectionPadding2d({ padding: (k - 1) / 2, name: padName })
      .apply(t) as SymbolicTensor;
    return conv(padded, {
      filters,
      kernelSize: k,
      strides: 1,
      padding: 0,
      bias: useBias,
      seed: seed(),
      name: convName,
    });
  };
  let h = reflectConv(x, ngf, 7, "c1_pad", "c1_conv", bias);
  h = normalize(h, norm, { seed: seed(), name: "c1_norm" });
  h = activate(h, "relu", "c1_act");
  for (let i = 0; i < 2; i++) {
    const f = ngf * 2 ** (i + 1);
    h = conv(h, {
      filters: f,
      kernelSize: 3,
      strides: 2,
      padding: 1,
      bias,
      seed: seed(),
      name: `down${i + 1}_conv`,
    });
    h = normalize(h, norm, { seed: seed(), name: `down${i + 1}_norm` });
    h = activate(h, "relu", `down${i + 1}_act`);
  }
  const f = ngf * 4;
  for (let b = 1; b <= blocks; b++) {
    let r = reflectConv(h, f, 3, `res${b}_pad1`, `res${b}_conv1`, bias);
    r = normalize(r, norm, { seed: seed(), name: `res${b}_norm1` });
    r = activate(r, "relu", `res${b}_act`);
    if (options.dropout ?? true) {
      r = seededDropout({ rate: 0.5, name: `res${b}_drop` }).apply(
        r,
      ) as SymbolicTensor;
    }
    r = reflectConv(r, f, 3, `res${b}_pad2`, `res${b}_conv2`, bias);
    r = normalize(r, norm, { seed: seed(), name: `res${b}_norm2` });
    h = tf.layers.add({ name: `res${b}_add` }).apply([h, r]) as SymbolicTensor;
  }
  for (let i = 0; i < 2; i++) {
    const out = ngf * 2 ** (1 - i);
    h = convTranspose(h, {
      filters: out,
      kernelSize: 3,
      strides: 2,
      padding: 1,
      outputPadding: 1,
      bias,
      seed: seed(),
      name: `up${i + 1}_tconv`,
    });
    h = normalize(h, norm, { seed: seed(), name: `up${i + 1}_norm` });
    h = activate(h, "relu", `up${i + 1}_act`);
  }
  h = reflectConv(h, options.outChannels ?? 3, 7, "out_pad", "out_conv", true);
  const y = activate(h, "tanh", "output");
  return tf.model({
    inputs: x,
    outputs: y,
    name: options.name ?? "resnet_generator",
  });
}
