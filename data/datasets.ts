/**
 * The embedded procedural data sets by name: generate them in memory, open
 * them as a {@linkcode PairedDataset}, or write them out as a normal AB folder
 * with `train/`, `val/`, `test/` splits.
 *
 * @module
 */
import {
  FACADE_PALETTE,
  generateDay2Night,
  generateFacades,
} from "./facades.ts";
import {
  type GeneratedPair,
  type GenerateOptions,
  pairName,
  resolveGenerateOptions,
} from "./generator_options.ts";
import { writeFileAtomic } from "@p2p/internal";
import { concatHorizontal, encodePng } from "./image.ts";
import {
  type PairedDataset,
  pairedDatasetFromPairs,
  type PairedDatasetOptions,
} from "./paired_dataset.ts";
import { generateEdges2Shapes } from "./shapes.ts";

/** Names of the embedded data sets. */
export type DatasetName = "facades" | "day2night" | "edges2shapes";

/** Every {@linkcode DatasetName}. */
export const DATASET_NAMES: readonly DatasetName[] = [
  "facades",
  "day2night",
  "edges2shapes",
];

/** What each embedded data set's A and B are (for help texts). */
export const DATASET_DESCRIPTIONS: Readonly<Record<DatasetName, string>> = {
  facades: "A: facade label map (CMP-like colours) -> B: rendered photo",
  day2night: "A: facade photo by day -> B: the same facade by night",
  edges2shapes: "A: black outline drawing -> B: filled, shaded shapes",
};

function checkName(name: string): DatasetName {
  if (!(DATASET_NAMES as readonly string[]).includes(name)) {
    throw new Error(
      `data set name: expected one of ${DATASET_NAMES.join(", ")}, received ${
        JSON.stringify(name)
      }`,
    );
  }
  return name as DatasetName;
}

/** Generates `count` pairs of an embedded data set (deterministic for `seed`; pair i independent of `count`). */
export function generateDataset(
  name: DatasetName,
  count: number,
  options: GenerateOptions = {},
): GeneratedPair[] {
  switch (checkName(name)) {
    case "facades":
      return generateFacades(count, options);
    case "day2night":
      return generateDay2Night(count, options);
    case "edges2shapes":
      return generateEdges2Shapes(count, options);
  }
}

/** Options of {@linkcode embeddedDataset}: what to generate plus the usual data set options. */
export interface EmbeddedDatasetOptions
  extends PairedDatasetOptions, GenerateOptions {
  /** Number of pairs. @default {400} */
  count?: number;
}

/**
 * Generates an embedded data set in memory and opens it like a folder. For
 * held-out pairs, generate with a `start` past the training range (same seed).
 * `cropSize` defaults to `size` and `loadSize` to `round(size * 286 / 256)`.
 *
 * @example
 * ```ts
 * import { createRng, embeddedDataset } from "./mod.ts";
 * const ds = embeddedDataset("facades", { count: 2, size: 32 });
 * const batch = await ds.batch([0, 1], { jitter: true, rng: createRng(0) });
 * console.log(batch.input.shape); // [2, 32, 32, 3]
 * batch.input.dispose();
 * batch.target.dispose();
 * ```
 */
export function embeddedDataset(
  name: DatasetName,
  options: EmbeddedDatasetOptions = {},
): PairedDataset {
  const count = options.count ?? 400;
  const { size } = resolveGenerateOptions(count, options);
  if (count === 0) {
    throw new Error("count: expected at least 1 pair, received 0");
  }
  const pairs = generateDataset(name, count, options);
  const cropSize = options.cropSize ?? size;
  return pairedDatasetFromPairs(pairs, {
    ...options,
    cropSize,
    loadSize: options.loadSize ?? Math.round(cropSize * 286 / 256),
  });
}

/** Options of {@linkcode writeDataset}. */
export interface WriteDatasetOptions extends GenerateOptions {
  /** Total number of pairs over all splits. @default {400} */
  count?: number;
  /** Fraction of pairs in `val/`. @default {0.1} */
  valFraction?: number;
  /** Fraction of pairs in `test/`. @default {0.1} */
  testFraction?: number;
  /** Replace `outDir` if it holds a data set written earlier by this function. @default {false} */
  overwrite?: boolean;
}

/** What {@linkcode writeDataset} wrote. */
export interface WrittenDataset {
  /** The output folder. */
  readonly dir: string;
  /** Data set name. */
  readonly name: DatasetName;
  /** Side of A and B (each AB file is `2 * size` by `size`). */
  readonly size: number;
  /** Seed used. */
  readonly seed: number;
  /** Pairs per split. */
  readonly splits: {
    readonly train: number;
    readonly val: number;
    readonly test: number;
  };
  /** Paths of every file written (AB PNGs, then `dataset.json`). */
  readonly files: readonly string[];
}

const INFO_FILE = "dataset.json";

async function isEmptyOrOurs(
  dir: string,
): Promise<"missing" | "empty" | "ours" | "other"> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(dir);
  } catch {
    return "missing";
  }
  if (!st.isDirectory) return "other";
  let any = false;
  for await (const e of Deno.readDir(dir)) {
    any = true;
    if (e.name === INFO_FILE) {
      try {
        const info = JSON.parse(await Deno.readTextFile(`${dir}/${INFO_FILE}`));
        if (info?.generator === "@p2p/data") return "ours";
      } catch { /* not ours */ }
    }
  }
  return any ? "other" : "empty";
}

/**
 * Generates an embedded data set and writes it as a normal AB folder:
 * `outDir/{train,val,test}/NNNNNN.png` (A left, B right) plus `dataset.json`.
 * The folder is built beside `outDir` and renamed into place at the end, so a
 * failed run leaves nothing half-written.
 */
export async function writeDataset(
  name: DatasetName,
  outDir: string,
  options: WriteDatasetOptions = {},
): Promise<WrittenDataset> {
  checkName(name);
  const count = options.count ?? 400;
  const { size, seed, start } = resolveGenerateOptions(count, options);
  if (count === 0) {
    throw new Error("count: expected at least 1 pair, received 0");
  }
  const valFraction = options.valFraction ?? 0.1;
  const testFraction = options.testFraction ?? 0.1;
  for (
    const [k, v] of [["valFraction", valFraction], [
      "testFraction",
      testFraction,
    ]] as const
  ) {
    if (typeof v !== "number" || !(v >= 0 && v < 1)) {
      throw new Error(
        `${k}: expected a number in [0, 1), received ${JSON.stringify(v)}`,
      );
    }
  }
  if (valFraction + testFraction >= 1) {
    throw new Error(
      `valFraction + testFraction: expected less than 1 so train/ is not empty, received ${
        valFraction + testFraction
      }`,
    );
  }
  const nVal = Math.round(count * valFraction),
    nTest = Math.round(count * testFraction);
  const nTrain = count - nVal - nTest;
  if (nTrain <= 0) {
    throw new Error(
      `count: ${count} leaves no pairs for train/; use a larger count`,
    );
  }

  const dir = outDir.replace(/\/+$/, "") || "/";
  const state = await isEmptyOrOurs(dir);
  if (state === "other") {
    throw new Error(
      `output folder '${dir}': expected a new or empty folder (or one written by this tool, with overwrite), but it exists and holds other files`,
    );
  }
  if (state === "ours" && !options.overwrite) {
    throw new Error(
      `output folder '${dir}': already holds a generated data set; pass overwrite (--force) to replace it`,
    );
  }
  const slash = dir.lastIndexOf("/");
  const parent = slash > 0 ? dir.slice(0, slash) : slash === 0 ? "/" : ".";
  await Deno.mkdir(parent, { recursive: true });
  const tmp = await Deno.makeTempDir({
    dir: parent,
    prefix: `.${dir.slice(slash + 1)}.tmp-`,
  });
  const files: string[] = [];
  try {
    const splits: [string, number][] = [["train", nTrain], ["val", nVal], [
      "test",
      nTest,
    ]];
    let index = start;
    for (const [split, n] of splits) {
      if (n === 0) continue;
      await Deno.mkdir(`${tmp}/${split}`);
      // generate in chunks to bound memory for large sets
      for (let done = 0; done < n; done += 64) {
        const pairs = generateDataset(name, Math.min(64, n - done), {
          size,
          seed,
          start: index + done,
        });
        for (const p of pairs) {
          const rel = `${split}/${p.name}.png`;
          await Deno.writeFile(
            `${tmp}/${rel}`,
            await encodePng(concatHorizontal([p.a, p.b])),
          );
          files.push(`${dir}/${rel}`);
        }
      }
      index += n;
    }
    const info = {
      generator: "@p2p/data",
      name,
      size,
      seed,
      start,
      count,
      direction: "AtoB",
      layout: "AB (A left, B right)",
      splits: { train: nTrain, val: nVal, test: nTest },
      names: { first: pairName(start), last: pairName(start + count - 1) },
      description: DATASET_DESCRIPTIONS[name],
      ...(name === "facades" ? { palette: FACADE_PALETTE } : {}),
    };
    await writeFileAtomic(
      `${tmp}/${INFO_FILE}`,
      new TextEncoder().encode(JSON.stringify(info, null, 2) + "\n"),
    );
    files.push(`${dir}/${INFO_FILE}`);
    if (state === "ours") await Deno.remove(dir, { recursive: true });
    else if (state === "empty") await Deno.remove(dir);
    await Deno.rename(tmp, dir);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  return {
    dir,
    name,
    size,
    seed,
    splits: { train: nTrain, val: nVal, test: nTest },
    files,
  };
}
