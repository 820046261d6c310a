/**
 * The data of a run: the training pairs and the held-out pairs for samples
 * and the final evaluation, from an embedded procedural set or a folder,
 * with the jitter the options ask for.
 *
 * @module
 */
import { embeddedDataset, type PairedDataset, pairedDataset } from "@p2p/data";
import { exists } from "@p2p/internal";
import type { ResolvedTrainOptions } from "./options.ts";

/** The data sets of a run. */
export interface RunData {
  /** Training pairs. */
  train: PairedDataset;
  /** Pairs for the samples and the final evaluation. */
  heldOut: PairedDataset;
  /** Whether `heldOut` really is held out (a folder without val/ or test/ has none). */
  heldOutIsSeparate: boolean;
  /** Where the data came from (`embedded:NAME` or the folder). */
  source: string;
}

/** Opens the data of `o` (reads and checks every image of a folder). */
export async function openRunData(o: ResolvedTrainOptions): Promise<RunData> {
  const common = {
    direction: o.direction,
    inChannels: o.inChannels,
    outChannels: o.outChannels,
    cropSize: o.size,
    loadSize: o.loadSize ?? Math.round(o.size * 286 / 256),
    preprocess: o.preprocess,
    noFlip: o.noFlip,
  } as const;
  const maxSize = o.maxDatasetSize ?? Infinity;
  if (o.data === null) {
    const gen = { size: o.size, seed: 0 };
    return {
      train: embeddedDataset(o.dataset, {
        ...common,
        ...gen,
        count: Math.min(o.count, maxSize),
      }),
      heldOut: embeddedDataset(o.dataset, {
        ...common,
        ...gen,
        count: o.heldOut,
        start: o.count,
      }),
      heldOutIsSeparate: true,
      source: `embedded:${o.dataset}`,
    };
  }
  const train = await pairedDataset(o.data, {
    ...common,
    split: "train",
    maxSize,
  });
  for (const split of ["val", "test"]) {
    if (await exists(`${o.data}/${split}`)) {
      const heldOut = await pairedDataset(o.data, {
        ...common,
        split,
        maxSize: o.heldOut,
      });
      return { train, heldOut, heldOutIsSeparate: true, source: o.data };
    }
  }
  const heldOut = await pairedDataset(o.data, {
    ...common,
    split: "train",
    maxSize: o.heldOut,
  });
  return { train, heldOut, heldOutIsSeparate: false, source: o.data };
}
