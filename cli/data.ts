/**
 * `deno task data`: write an embedded procedural data set as a normal AB
 * folder with train/val/test splits.
 *
 * Examples:
 *   deno task data --name facades --out data/facades
 *   deno task data --name day2night --out /tmp/d2n --count 100 --size 128
 *   deno task data --name edges2shapes --out /tmp/e2s --count 50 --size 64 --seed 3 --force
 *   deno task data --download facades [--out datasets] [--mirror URL]   (the reference's sets)
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  DATASET_DESCRIPTIONS,
  DATASET_NAMES,
  type DatasetName,
  writeDataset,
} from "@p2p/data";
import { asGiven, resolveUserPath } from "./args.ts";
import { dataDownloadMain, wantsDownload } from "./data_download.ts";
import { REFERENCE_DATASETS } from "./reference_downloads.ts";

/** Parsed arguments of `deno task data`. */
export interface DataArgs {
  /** Data set to generate. */
  name: DatasetName;
  /** Output folder. */
  out: string;
  /** Number of pairs over all splits. */
  count: number;
  /** Side of A and B in pixels. */
  size: number;
  /** Generator seed. */
  seed: number;
  /** Replace an earlier generated data set in `out`. */
  force: boolean;
}

/** A command-line mistake (exit code 2). */
export class UsageError extends Error {
  /** Creates a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const DEFAULTS = { count: 400, size: 256, seed: 0 };

/** The `--help` text: every flag with its default. */
export function dataHelp(): string {
  const names = DATASET_NAMES.map((n) =>
    `      ${n.padEnd(13)} ${DATASET_DESCRIPTIONS[n]}`
  ).join("\n");
  return `Usage: deno task data --name NAME --out DIR [options]

Writes an embedded procedural data set as AB images (A left, B right) in
DIR/train, DIR/val and DIR/test (80/10/10 %), plus DIR/dataset.json.

Options:
  --name NAME    data set (required), one of:
${names}
  --out DIR      output folder, new or empty (required)
  --count N      pairs over all splits (default ${DEFAULTS.count})
  --size N       side of A and B in pixels, 16..4096 (default ${DEFAULTS.size})
  --seed N       generator seed, an integer; negative as --seed=-3 (default ${DEFAULTS.seed})
  --force        replace DIR if it holds a data set written earlier (default false)
  -h, --help     show this help (default false)

The reference's data sets (${REFERENCE_DATASETS.join(", ")}):
  deno task data --download NAME [--out DIR] [--mirror URL]   (--download --help for more)
`;
}

function intFlag(
  flag: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(
      `--${flag}: expected an integer from ${min} to ${max}, received '${raw}'`,
    );
  }
  return v;
}

/**
 * Parses `deno task data` arguments. Returns `"help"` for `--help`; throws a
 * {@linkcode UsageError} naming the flag for unknown flags, missing or bad values.
 */
export function parseDataArgs(argv: string[]): DataArgs | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        name: { type: "string" },
        out: { type: "string" },
        count: { type: "string" },
        size: { type: "string" },
        seed: { type: "string" },
        force: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (see --help)`);
  }
  if (values.help) return "help";
  if (values.name === undefined) {
    throw new UsageError(
      `--name: required, one of ${DATASET_NAMES.join(", ")}`,
    );
  }
  if (!(DATASET_NAMES as readonly string[]).includes(values.name)) {
    throw new UsageError(
      `--name: expected one of ${
        DATASET_NAMES.join(", ")
      }, received '${values.name}'`,
    );
  }
  if (values.out === undefined || values.out === "") {
    throw new UsageError("--out: required, the output folder");
  }
  return {
    name: values.name as DatasetName,
    out: resolveUserPath(values.out),
    count: intFlag("count", values.count, DEFAULTS.count, 1, 1_000_000),
    size: intFlag("size", values.size, DEFAULTS.size, 16, 4096),
    seed: intFlag(
      "seed",
      values.seed,
      DEFAULTS.seed,
      -(2 ** 53 - 1),
      2 ** 53 - 1,
    ),
    force: values.force ?? false,
  };
}

/** Runs the command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  if (wantsDownload(argv)) return await dataDownloadMain(argv);
  let args;
  try {
    args = parseDataArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${asGiven(e.message)}`);
    return 2;
  }
  if (args === "help") {
    console.log(dataHelp());
    return 0;
  }
  const t0 = performance.now();
  try {
    const w = await writeDataset(args.name, args.out, {
      count: args.count,
      size: args.size,
      seed: args.seed,
      overwrite: args.force,
    });
    const s = w.splits;
    console.log(
      `wrote ${w.name} (seed ${w.seed}): ${s.train} train, ${s.val} val, ${s.test} test pairs as ${
        2 * w.size
      }x${w.size} AB PNGs in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    for (const split of ["train", "val", "test"] as const) {
      if (s[split] > 0) {
        console.log(asGiven(`  ${w.dir}/${split}/  ${s[split]} files`));
      }
    }
    console.log(asGiven(`  ${w.dir}/dataset.json`));
    return 0;
  } catch (e) {
    console.error(`error: ${asGiven(String((e as Error).message))}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
