/**
 * Scores a checkpoint on a paired split: L1, PSNR and SSIM.
 *
 *   deno task eval --checkpoint runs/facades/checkpoints/latest --data runs/facades/data
 *   deno task eval --checkpoint ckpt --data my_pairs --split val --mode eval --json scores.json
 *
 * Prints a table and writes the scores (per image and mean) as JSON.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { basename, dirname, join, resolve } from "node:path";
import { type ImageMetrics, imageMetrics, meanMetrics } from "@p2p/models";
import { type Direction, pairedDataset } from "@p2p/data";
import { ensureParent, exists, writeTextFileAtomic } from "@p2p/internal";
import {
  asGiven,
  type FlagTable,
  parseFlags,
  runMain,
  UsageError,
} from "./args.ts";
import { INFERENCE_FLAGS, translatorFromFlags } from "./inference.ts";

const USAGE = "usage: deno task eval --checkpoint DIR --data DIR [flags]";

/** The flags of `deno task eval`. */
export const EVAL_FLAGS: FlagTable = {
  checkpoint: INFERENCE_FLAGS.checkpoint,
  data: {
    type: "string",
    help:
      "Paired data set: AB images or A/ and B/ folders, with optional splits.",
    metavar: "DIR",
    path: true,
  },
  split: {
    type: "string",
    help: "Split subfolder to score, when the data set has splits.",
    default: "test",
  },
  direction: {
    type: "string",
    help: "AtoB or BtoA; defaults to the checkpoint's training direction.",
    choices: ["AtoB", "BtoA"],
  },
  json: {
    type: "string",
    help:
      "Where to write the scores; default eval_<checkpoint name>_<split>.json beside the checkpoint.",
    metavar: "FILE",
    path: true,
  },
  ...INFERENCE_FLAGS,
  force: {
    type: "boolean",
    help:
      "Replace a --json file that is not an earlier p2p eval file (those are replaced anyway).",
    default: false,
  },
};

/**
 * Refuses, before any work, a scores path that holds a folder or a file that
 * is not an earlier p2p eval file (unless `force`).
 */
async function checkScoresPath(path: string, force: boolean): Promise<void> {
  if (!(await exists(path))) return;
  if ((await Deno.stat(path)).isDirectory) {
    throw new UsageError(`--json ${path} is a folder, expected a file path`);
  }
  if (force) return;
  try {
    const old = JSON.parse(await Deno.readTextFile(path));
    if (old && typeof old === "object" && "mean" in old && "images" in old) {
      return; // an earlier p2p eval of this kind
    }
  } catch {
    // not JSON: the user's own file
  }
  throw new UsageError(
    `--json ${path} already exists and is not a p2p eval file; pass --force to replace it, or choose another path`,
  );
}

async function main(): Promise<void> {
  const v = parseFlags(Deno.args, USAGE, EVAL_FLAGS);
  if (!v) return;
  const ckpt = v.checkpoint as string;
  // Beside the checkpoint, not inside it: a checkpoint directory is replaced whole on each save.
  const json = (v.json as string | undefined) ??
    join(
      dirname(resolve(ckpt)),
      `eval_${basename(resolve(ckpt))}_${v.split}.json`,
    );
  await checkScoresPath(json, v.force === true);
  const translator = await translatorFromFlags(v, USAGE, ["data"]);
  const { config, mode } = translator;
  const g = config.generator;
  const direction = (v.direction ??
    (config.data as { direction?: Direction } | undefined)?.direction ??
    "AtoB") as Direction;
  const ds = await pairedDataset(v.data as string, {
    split: v.split as string,
    direction,
    inChannels: (g.inChannels ?? 3) as 1 | 3,
    outChannels: (g.outChannels ?? 3) as 1 | 3,
    preprocess: "none",
  });
  const rows: (ImageMetrics & { name: string })[] = [];
  for (let i = 0; i < ds.size; i++) {
    const pair = await ds.get(i);
    const x = pair.input.expandDims(0) as tf.Tensor4D;
    const y = translator.run(x);
    const out = y.squeeze([0]);
    const m = await imageMetrics(out, pair.target);
    rows.push({ name: pair.name, ...m });
    tf.dispose([pair.input, pair.target, x, y, out]);
  }
  const mean = meanMetrics(rows);
  const fmt = (m: ImageMetrics) =>
    `${m.l1.toFixed(4).padStart(8)} ${m.psnr.toFixed(2).padStart(8)} ${
      m.ssim.toFixed(4).padStart(8)
    }`;
  console.log(
    asGiven(
      `checkpoint ${ckpt}, data ${ds.dir} (${ds.layout}, split ${v.split}, ${direction}), ${ds.size} pairs, mode ${mode}`,
    ),
  );
  console.log(
    `${"image".padEnd(28)} ${"L1".padStart(8)} ${"PSNR dB".padStart(8)} ${
      "SSIM".padStart(8)
    }`,
  );
  if (rows.length <= 20) {
    for (const r of rows) {
      console.log(`${r.name.slice(0, 28).padEnd(28)} ${fmt(r)}`);
    }
  }
  console.log(`${"mean".padEnd(28)} ${fmt(mean)}`);
  const body = JSON.stringify(
    {
      checkpoint: ckpt,
      data: ds.dir,
      split: v.split,
      direction,
      mode,
      mean,
      images: rows,
    },
    null,
    2,
  );
  await ensureParent(json);
  await writeTextFileAtomic(json, body + "\n");
  console.log(asGiven(`scores written to ${json}`));
  translator.dispose();
}

if (import.meta.main) await runMain(main);
