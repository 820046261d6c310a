/**
 * `@p2p/data`: paired image data for pix2pix.
 *
 * - Image I/O (`image.ts`, `png.ts`): PNG and JPEG in, PNG out (written
 *   atomically); 8-bit {@linkcode Pixels} to and from tensors in [-1, 1]
 *   (RGB or grey; {@linkcode ImageTensor} / {@linkcode ImageBatch}).
 * - Paired data sets ({@linkcode pairedDataset}): a folder of AB images or
 *   `A/` + `B/` folders, `train/`/`val/`/`test/` splits, `AtoB`/`BtoA`, every
 *   file validated up front, decoded images cached as typed arrays.
 * - Training jitter as the PyTorch reference: bicubic resize to `loadSize`,
 *   one random `cropSize` crop and a flip shared by A and B, seeded by a
 *   serialisable {@linkcode createRng}.
 * - Embedded procedural data sets, no download: `facades`, `day2night`,
 *   `edges2shapes` ({@linkcode generateDataset}, {@linkcode embeddedDataset},
 *   {@linkcode writeDataset}).
 *
 * @example Train-style batches from the embedded facades
 * ```ts
 * import { createRng, embeddedDataset, FACADE_PALETTE } from "@p2p/data";
 *
 * const ds = embeddedDataset("facades", { count: 4, size: 32 });
 * const rng = createRng(7);
 * for await (const batch of ds.batches({ batchSize: 2, rng, jitter: true })) {
 *   console.log(batch.names, batch.input.shape, batch.target.shape); // [2, 32, 32, 3] each
 *   batch.input.dispose();
 *   batch.target.dispose();
 * }
 * console.log(FACADE_PALETTE[2].name); // "window"
 * ```
 *
 * @module
 */
export {
  type Channels,
  checkChannels,
  concatHorizontal,
  createPixels,
  decodeImage,
  encodePng,
  type ImageBatch,
  type ImageTensor,
  imageToTensor,
  type Pixels,
  pixelsToFloat,
  readImage,
  type ReadImageOptions,
  tensorToImage,
  toChannels,
  writeImage,
} from "./image.ts";
export { crop, flipHorizontal, resizeBicubic } from "./resize.ts";
export {
  createRng,
  deriveSeed,
  type Rng,
  type RngState,
  shuffledIndices,
} from "./rng.ts";
export {
  applyTransform,
  centerTransformParams,
  defaultLoadSize,
  drawTransformParams,
  evalTransformOptions,
  type Preprocess,
  PREPROCESS_MODES,
  resizedSize,
  type ResolvedTransformOptions,
  resolveTransformOptions,
  transformedSize,
  type TransformOptions,
  type TransformParams,
} from "./transform.ts";
export {
  type BatchesOptions,
  type DatasetLayout,
  type Direction,
  type GetOptions,
  type Pair,
  type PairBatch,
  type PairedDataset,
  pairedDataset,
  pairedDatasetFromPairs,
  type PairedDatasetOptions,
  type PairSource,
  type PixelPair,
  type ResolvedPairedDatasetOptions,
  resolvePairedDatasetOptions,
} from "./paired_dataset.ts";
export {
  type GeneratedPair,
  type GenerateOptions,
  pairName,
  resolveGenerateOptions,
} from "./generator_options.ts";
export {
  FACADE_PALETTE,
  type FacadeClass,
  generateDay2Night,
  generateFacades,
} from "./facades.ts";
export { generateEdges2Shapes } from "./shapes.ts";
export {
  DATASET_DESCRIPTIONS,
  DATASET_NAMES,
  type DatasetName,
  embeddedDataset,
  type EmbeddedDatasetOptions,
  generateDataset,
  writeDataset,
  type WriteDatasetOptions,
  type WrittenDataset,
} from "./datasets.ts";
