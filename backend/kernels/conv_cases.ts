/**
 * Convolution shapes the fast-kernel tests cover: pix2pix's own layers at a
 * small size, and odd shapes (batch > 1, one channel, non-square, odd sides,
 * strides 1, 2 and mixed, 'same', 'valid' and explicit padding, kernels
 * smaller than the stride).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** One convolution: input and filter shapes, stride and padding. */
export interface ConvCase {
  /** What the case is about. */
  name: string;
  /** Input shape `[batch, height, width, inChannels]`. */
  x: [number, number, number, number];
  /** Filter shape `[height, width, inChannels, outChannels]`. */
  filter: [number, number, number, number];
  /** Stride. */
  strides: number | [number, number];
  /** Padding as tfjs takes it. */
  pad: "same" | "valid" | number | tf.backend_util.ExplicitPadding;
}

/** The cases, all small enough to run in milliseconds on the cpu backend. */
export const CONV_CASES: ConvCase[] = [
  {
    name: "pix2pix 4x4 s2 same",
    x: [1, 16, 16, 3],
    filter: [4, 4, 3, 8],
    strides: 2,
    pad: "same",
  },
  {
    name: "batch 2, odd non-square",
    x: [2, 9, 7, 3],
    filter: [4, 4, 3, 5],
    strides: 2,
    pad: "same",
  },
  {
    name: "one channel in and out",
    x: [1, 8, 10, 1],
    filter: [4, 4, 1, 1],
    strides: 2,
    pad: "same",
  },
  {
    name: "s2 valid, odd side",
    x: [2, 11, 10, 2],
    filter: [4, 4, 2, 3],
    strides: 2,
    pad: "valid",
  },
  {
    name: "s1 3x3 same",
    x: [2, 9, 7, 3],
    filter: [3, 3, 3, 1],
    strides: 1,
    pad: "same",
  },
  {
    name: "s1 3x2 valid",
    x: [3, 6, 9, 2],
    filter: [3, 2, 2, 4],
    strides: 1,
    pad: "valid",
  },
  {
    name: "s1 4x4 explicit 1 (PatchGAN)",
    x: [1, 7, 7, 2],
    filter: [4, 4, 2, 3],
    strides: 1,
    pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
  },
  {
    name: "mixed strides, uneven explicit pads",
    x: [1, 10, 13, 2],
    filter: [4, 4, 2, 3],
    strides: [2, 3],
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]],
  },
  {
    name: "1x1 kernel stride 2 (phases with no taps)",
    x: [3, 7, 6, 4],
    filter: [1, 1, 4, 2],
    strides: 2,
    pad: "valid",
  },
  {
    name: "3x3 kernel stride 2 same, odd",
    x: [2, 7, 5, 3],
    filter: [3, 3, 3, 2],
    strides: 2,
    pad: "same",
  },
  {
    name: "numeric pad 2, stride 3",
    x: [1, 11, 8, 2],
    filter: [5, 4, 2, 3],
    strides: 3,
    pad: 2,
  },
  {
    name: "1x1 spatial (U-Net innermost)",
    x: [2, 2, 2, 6],
    filter: [4, 4, 6, 5],
    strides: 2,
    pad: "same",
  },
  {
    name: "one row: kernel rows that only see padding, 4x3 s2",
    x: [2, 1, 5, 3],
    filter: [4, 3, 3, 2],
    strides: 2,
    pad: "same",
  },
  {
    name: "2x3 to 1x2, explicit pad 1: kernel rows and columns only padding",
    x: [1, 2, 3, 4],
    filter: [4, 4, 4, 3],
    strides: 2,
    pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
  },
];

/** Stride-1 cases with few output channels (the BLAS path's transposed-geometry kernels). */
export const FEW_OUTPUT_CHANNEL_CASES: ConvCase[] = [
  {
    name: "PatchGAN output layer (s1, 1 channel out, explicit pad)",
    x: [2, 9, 8, 16],
    filter: [4, 4, 16, 1],
    strides: 1,
    pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
  },
  {
    name: "s1 valid, 2 of 12 channels, non-square",
    x: [1, 10, 7, 12],
    filter: [4, 3, 12, 2],
    strides: 1,
    pad: "valid",
  },
  {
    name: "s1 same, 3x3, 1 of 8 channels",
    x: [3, 6, 5, 8],
    filter: [3, 3, 8, 1],
    strides: 1,
    pad: "same",
  },
];

/**
 * Kernels a multiple of the stride (the space-to-depth path), with shapes
 * large enough that it runs by its own choice too.
 */
export const S2D_CASES: ConvCase[] = [
  {
    name: "4x4 s2 explicit 1, batch 3, odd non-square",
    x: [3, 13, 9, 5],
    filter: [4, 4, 5, 7],
    strides: 2,
    pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
  },
  {
    name: "4x4 s2 same, 64x64, RGB (auto: forward only)",
    x: [1, 64, 64, 3],
    filter: [4, 4, 3, 8],
    strides: 2,
    pad: "same",
  },
  {
    name: "4x4 s2 same, 64x64, 8 channels in (auto, gradients too)",
    x: [1, 64, 64, 8],
    filter: [4, 4, 8, 4],
    strides: 2,
    pad: "same",
  },
  {
    name: "4x4 s2 same, batch 2, 66x70 (auto), 1 channel in",
    x: [2, 66, 70, 1],
    filter: [4, 4, 1, 4],
    strides: 2,
    pad: "same",
  },
  {
    name: "6x4 kernel, strides [3, 2], uneven pads",
    x: [2, 14, 11, 2],
    filter: [6, 4, 2, 3],
    strides: [3, 2],
    pad: [[0, 0], [2, 1], [0, 2], [0, 0]],
  },
  {
    name: "4x4 s2 valid, odd sides (rows S leaves out)",
    x: [1, 12, 11, 3],
    filter: [4, 4, 3, 1],
    strides: 2,
    pad: "valid",
  },
];
