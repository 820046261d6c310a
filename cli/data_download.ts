/**
 * `deno task data --download NAME [--out DIR] [--mirror URL]`: one of the
 * reference's pix2pix data sets, downloaded (resumable, with a progress bar)
 * and extracted to `DIR/NAME/{train,val,test}` (default `DIR` = `datasets`,
 * as the reference's `datasets/download_pix2pix_dataset.sh`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { userPath } from "@p2p/internal";
import {
  downloadBase,
  downloadDataset,
  MIRROR_ENV,
  REFERENCE_BASE,
  REFERENCE_DATASETS,
} from "./reference_downloads.ts";

/** The `--help` text of `deno task data --download`. */
export function dataDownloadHelp(): string {
  return `Usage: deno task data --download NAME [--out DIR] [--mirror URL]

Downloads the reference's pix2pix data set NAME from BASE/datasets/NAME.tar.gz
and extracts it to DIR/NAME/{train,val,test} (AB images, as train reads them).
An interrupted download resumes when the command is run again.

Options:
  --download NAME  one of ${REFERENCE_DATASETS.join(", ")}
  --out DIR        parent folder [default: datasets]
  --mirror URL     replaces BASE [default: $${MIRROR_ENV}, else ${REFERENCE_BASE}]`;
}

/** Whether `argv` asks for a download (then {@linkcode dataDownloadMain} handles it). */
export function wantsDownload(argv: readonly string[]): boolean {
  return argv.some((a) => a === "--download" || a.startsWith("--download="));
}

/** Runs `deno task data --download …`; returns the exit code. */
export async function dataDownloadMain(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        download: { type: "string" },
        out: { type: "string" },
        mirror: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    console.error(
      `error: ${
        (e as Error).message
      } (with --download only --out and --mirror apply; see --help)`,
    );
    return 2;
  }
  if (values.help) {
    console.log(dataDownloadHelp());
    return 0;
  }
  const name = values.download ?? "";
  if (!REFERENCE_DATASETS.includes(name)) {
    console.error(
      `error: --download: expected one of ${
        REFERENCE_DATASETS.join(", ")
      }, received '${name}'`,
    );
    return 2;
  }
  const out = values.out ?? "datasets";
  try {
    const base = downloadBase(values.mirror);
    console.log(`downloading ${base}/datasets/${name}.tar.gz`);
    const r = await downloadDataset(name, userPath(out), {
      mirror: values.mirror,
    });
    const shown = `${out.replace(/\/+$/, "")}/${name}`;
    console.log(`${name}: ${shown}/`);
    for (const [split, n] of Object.entries(r.splits).sort()) {
      console.log(`  ${shown}/${split}/  ${n} files`);
    }
    console.log(
      `train with: deno task train --dataroot ${shown} --name ${name}_pix2pix --direction BtoA`,
    );
    return 0;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
}
