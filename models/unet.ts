/**
 * The U-Net generator of pix2pix (`unet_256` at depth 8, `unet_128` at 7).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  activate,
  checkNorm,
  conv,
  convTranspose,
  decoderBlock,
  encoderBlock,
  type NormKind,
  seedSequence,
  type SymbolicTensor,
} from "@p2p/layers";

/** A tfjs functional model. */
export type LayersModel = tf.LayersModel;

/**
 * Which decoder blocks get dropout 0.5: `paper` puts it on d1–d3 (as the
 * paper and the Keras tutorials), `pytorch` on d2–d4 (as the reference code),
 * `none` nowhere, or a list of 1-based decoder indices. With `paper` and
 * `pytorch`, depth − 5 blocks get it (3 at depth 8), as in the reference.
 */
export type DropoutPlacement = "paper" | "pytorch" | "none" | number[];

/** Options of {@linkcode unet}. */
export interface UnetOptions {
  /** Number of downsamplings; the input side must be divisible by 2^depth. @default 8 */
  depth?: number;
  /** Filters of the first layer; level i has ngf·min(2^i, 8). @default 64 */
  ngf?: number;
  /** Input channels (1 grey, 3 RGB). @default 3 */
  inChannels?: number;
  /** Output channels (1 grey, 3 RGB). @default 3 */
  outChannels?: number;
  /** Normalisation. @default "batch" */
  norm?: NormKind;
  /** Dropout placement. @default "paper" */
  dropout?: DropoutPlacement;
  /** Convolution biases: `reference` (only where no BatchNorm follows, as PyTorch) or `all` (Keras). @default "reference" */
  bias?: "reference" | "all";
  /** Fixed input side; `null` accepts any side divisible by 2^depth. @default null */
  size?: number | null;
  /** Seed of the weight initialisers. @default 0 */
  seed?: number;
  /** Model name. @default "unet" */
  name?: string;
}

/** The filters of encoder level `i` (1-based). */
export function unetFilters(ngf: number, i: number): number {
  return ngf * Math.min(2 ** (i - 1), 8);
}

/** Throws a clear error unless `side` is a positive multiple of 2^depth. */
export function checkUnetSize(
  side: number,
  depth: number,
  what = "input side",
): void {
  const divisor = 2 ** depth;
  if (!Number.isInteger(side) || side <= 0 || side % divisor !== 0) {
    throw new RangeError(
      `${what} ${side} is not divisible by 2^depth = ${divisor} (depth ${depth}); use a multiple of ${divisor}, e.g. ${
        Math.max(divisor, Math.round(side / divisor) * divisor)
      }`,
    );
  }
}

function dropoutBlocks(
  placement: DropoutPlacement,
  depth: number,
): Set<number> {
  if (Array.isArray(placement)) {
    for (const i of placement) {
      if (!Number.isInteger(i) || i < 1 || i >= depth) {
        throw new RangeError(
          `dropout decoder index ${i} is out of range 1..${depth - 1}`,
        );
      }
    }
    return new Set(placement);
  }
  const n = Math.max(0, depth - 5);
  switch (placement) {
    case "paper":
      return new Set(Array.from({ length: n }, (_, i) => i + 1));
    case "pytorch":
      return new Set(Array.from({ length: n }, (_, i) => i + 2));
    case "none":
      return new Set();
    default:
      throw new RangeError(
        `dropout must be paper, pytorch, none or a list of indices, received "${placement}"`,
      );
  }
}

function checkPositiveInt(value: number, name: string, min = 1): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `${name} must be an integer ≥ ${min}, received ${value}`,
    );
  }
}

/**
 * Builds the U-Net generator: encoder e1…e_depth (e1 without norm, the
 * innermost without norm), decoder d1…d_depth with skips concatenated as
 * `[encoder, decoder]`, tanh output. Layers are named `e<i>_…` and `d<i>_…`.
 *
 * @example
 * ```ts
 * import { unet } from "@p2p/models";
 * const g = unet({ depth: 5, ngf: 4, size: 32 });
 * console.log(g.outputs[0].shape); // [null, 32, 32, 3]
 * ```
 */
export function unet(options: UnetOptions = {}): LayersModel {
  const depth = options.depth ?? 8;
  const ngf = options.ngf ?? 64;
  const inChannels = options.inChannels ?? 3;
  const outChannels = options.outChannels ?? 3;
  const norm = checkNorm(options.norm ?? "batch", "unet norm");
  const allBias = (options.bias ?? "reference") === "all";
  if (
    options.bias !== undefined && !["reference", "all"].includes(options.bias)
  ) {
    throw new RangeError(
      `unet bias must be "reference" or "all", received "${options.bias}"`,
    );
  }
  checkPositiveInt(depth, "unet depth", 2);
  checkPositiveInt(ngf, "unet ngf");
  checkPositiveInt(inChannels, "unet inChannels");
  checkPositiveInt(outChannels, "unet outChannels");
  const size = options.size ?? null;
  if (size !== null) checkUnetSize(size, depth, "unet size");
  const drop = dropoutBlocks(options.dropout ?? "paper", depth);
  const seed = seedSequence(options.seed ?? 0);
  const bias = allBias ? true : undefined; // undefined: the block's reference default

  const x = tf.input({ shape: [size, size, inChannels], name: "input" });
  const skips: SymbolicTensor[] = [];
  // e1: conv only (no activation before, no norm after).
  let h = conv(x, {
    filters: ngf,
    bias: allBias || norm === "instance",
    seed: seed(),
    name: "e1_conv",
  });
  skips.push(h);
  for (let i = 2; i <= depth; i++) {
    const innermost = i === depth;
    h = encoderBlock(h, {
      filters: unetFilters(ngf, i),
      norm: innermost ? "none" : norm,
      // The reference's innermost conv has no bias although no norm follows.
      bias: allBias || (norm === "instance") ? true : innermost ? false : bias,
      seed: seed(),
      name: `e${i}`,
    });
    skips.push(h);
  }
  // d1 … d_{depth-1}: ReLU → T → norm (→ dropout) → concat skip.
  for (let j = 1; j < depth; j++) {
    const skip = skips[depth - j - 1];
    h = decoderBlock(h, {
      filters: unetFilters(ngf, depth - j),
      norm,
      dropout: drop.has(j) ? 0.5 : 0,
      bias,
      skip,
      seed: seed(),
      name: `d${j}`,
    });
  }
  // Outermost: ReLU → T(outChannels) with bias → tanh.
  h = activate(h, "relu", `d${depth}_act`);
  h = convTranspose(h, {
    filters: outChannels,
    bias: true,
    seed: seed(),
    name: `d${depth}_tconv`,
  });
  const y = activate(h, "tanh", "output");
  return tf.model({ inputs: x, outputs: y, name: options.name ?? "unet" });
}
