/**
 * The reference's downloads, one call each: its pix2pix data sets
 * (`datasets/download_pix2pix_dataset.sh`: `BASE/datasets/NAME.tar.gz`,
 * extracted to `DIR/NAME/{train,val,test}`) and its pretrained generators
 * (`scripts/download_pix2pix_model.sh`: `BASE/models-pytorch/NAME.pth`,
 * placed as `DIR/NAME_pretrained/latest_net_G.pth`). `BASE` is the
 * reference's address unless `mirror` or the `P2P_MIRROR` environment
 * variable replaces it.
 *
 * @module
 */
import { exists, TEMP_MARK, tempPathFor } from "@p2p/internal";
import { readReferenceNetwork, type ReferenceNet } from "@p2p/interop";
import { downloadFile } from "./download.ts";
import { extractTarGz } from "./extract_tar.ts";
import type { ProgressSink } from "./progress_bar.ts";

/** The reference's download address (both scripts use it). */
export const REFERENCE_BASE = "http://efrosgans.eecs.berkeley.edu/pix2pix";

/** The environment variable that replaces {@linkcode REFERENCE_BASE}. */
export const MIRROR_ENV = "P2P_MIRROR";

/** The reference's pix2pix data sets. */
export const REFERENCE_DATASETS: readonly string[] = [
  "facades",
  "cityscapes",
  "maps",
  "edges2shoes",
  "edges2handbags",
  "night2day",
];

/** The reference's pretrained pix2pix generators. */
export const REFERENCE_PRETRAINED: readonly string[] = [
  "facades_label2photo",
  "sat2map",
  "map2sat",
  "edges2shoes",
  "edges2handbags",
  "day2night",
];

/**
 * The base address in force: `mirror` (a `--mirror` flag), else
 * `$P2P_MIRROR`, else {@linkcode REFERENCE_BASE}; without a trailing slash.
 */
export function downloadBase(mirror?: string): string {
  let env: string | undefined;
  try {
    env = Deno.env.get(MIRROR_ENV);
  } catch {
    env = undefined;
  }
  const base = (mirror || env || REFERENCE_BASE).replace(/\/+$/, "");
  const from = mirror ? "--mirror" : env ? MIRROR_ENV : "the reference";
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`${from} ${base}: expected an http(s):// address`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`${from} ${base}: expected an http(s):// address`);
  }
  return base;
}

/** Options shared by the download functions. */
export interface ReferenceDownloadOptions {
  /** Replaces the base address (see {@linkcode downloadBase}). */
  mirror?: string;
  /** Progress of the transfer; null shows none. @default a progress bar on stderr */
  progress?: ProgressSink | null;
}

/** What {@linkcode downloadDataset} produced. */
export interface DownloadedDataset {
  /** The data set's folder, `DIR/NAME`. */
  dir: string;
  /** Files in each split folder found. */
  splits: Record<string, number>;
  /** Where it came from. */
  url: string;
}

function checkName(name: string, list: readonly string[], what: string) {
  if (!list.includes(name)) {
    throw new Error(
      `${what} "${name}" is not one of the reference's: ${list.join(", ")}`,
    );
  }
}

async function countSplits(dir: string): Promise<Record<string, number>> {
  const splits: Record<string, number> = {};
  for await (const e of Deno.readDir(dir)) {
    if (!e.isDirectory) continue;
    let n = 0;
    for await (const f of Deno.readDir(`${dir}/${e.name}`)) if (f.isFile) n++;
    splits[e.name] = n;
  }
  return splits;
}

/**
 * Downloads the reference's data set `name` into `out/name/` (train, val,
 * test folders of AB images, as `train` reads them): resumable download of
 * `BASE/datasets/NAME.tar.gz` to `out/NAME.tar.gz`, safe extraction to a
 * temporary folder renamed into place, archive removed. Refuses an existing
 * `out/name`.
 */
export async function downloadDataset(
  name: string,
  out: string,
  options: ReferenceDownloadOptions = {},
): Promise<DownloadedDataset> {
  checkName(name, REFERENCE_DATASETS, "data set");
  const root = out.replace(/\/+$/, "") || ".";
  const dir = `${root}/${name}`;
  if (await exists(dir)) {
    throw new Error(
      `${dir} already exists; remove it (or choose another --out) to download ${name} again`,
    );
  }
  const url = `${downloadBase(options.mirror)}/datasets/${name}.tar.gz`;
  await Deno.mkdir(root, { recursive: true });
  const archive = `${root}/${name}.tar.gz`;
  await downloadFile(url, archive, { progress: options.progress });
  const stage = tempPathFor(dir);
  try {
    try {
      await extractTarGz(archive, stage);
    } catch (e) {
      // A damaged archive is of no use: the next run downloads it afresh.
      await Deno.remove(archive).catch(() => {});
      throw new Error(
        `${
          (e as Error).message
        }; the downloaded ${name}.tar.gz was removed, run the command again to download it afresh`,
      );
    }
    // The reference's archives hold NAME/{train,val,test}; accept bare splits too.
    const inner = await exists(`${stage}/${name}`) ? `${stage}/${name}` : stage;
    const splits = await countSplits(inner);
    if (!["train", "val", "test"].some((s) => s in splits)) {
      throw new Error(
        `${url}: the archive holds no train, val or test folder (found: ${
          Object.keys(splits).join(", ") || "no folders"
        })`,
      );
    }
    await Deno.rename(inner, dir);
    await Deno.remove(archive);
    return { dir, splits, url };
  } finally {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
  }
}

/** What {@linkcode downloadPretrained} produced. */
export interface DownloadedModel {
  /** The run folder, `DIR/NAME_pretrained`. */
  dir: string;
  /** The generator file, `DIR/NAME_pretrained/latest_net_G.pth`. */
  file: string;
  /** The reference network it holds (`--netG`). */
  netG: ReferenceNet;
  /** Its normalisation. */
  norm: string;
  /** Where it came from (null when it was already there). */
  url: string | null;
}

/**
 * Downloads the reference's pretrained generator `name` to
 * `checkpointsDir/NAME_pretrained/latest_net_G.pth` (as its script does) and
 * checks that p2p reads it (architecture inferred from the weights). An
 * existing, readable file is kept unless `force`.
 */
export async function downloadPretrained(
  name: string,
  checkpointsDir: string,
  options: ReferenceDownloadOptions & { force?: boolean } = {},
): Promise<DownloadedModel> {
  checkName(name, REFERENCE_PRETRAINED, "pretrained model");
  const dir = `${checkpointsDir.replace(/\/+$/, "") || "."}/${name}_pretrained`;
  const file = `${dir}/latest_net_G.pth`;
  let url: string | null = null;
  if (options.force || !(await exists(file))) {
    url = `${downloadBase(options.mirror)}/models-pytorch/${name}.pth`;
    await Deno.mkdir(dir, { recursive: true });
    const staged = `${dir}/${name}.pth${TEMP_MARK}download`;
    await downloadFile(url, staged, {
      progress: options.progress,
      label: `${name}.pth`,
    });
    try {
      await describe(staged, url);
    } catch (e) {
      await Deno.remove(staged).catch(() => {});
      throw e;
    }
    await Deno.rename(staged, file);
  }
  const { netG, norm } = await describe(file, url ?? file);
  return { dir, file, netG, norm, url };
}

async function describe(
  path: string,
  what: string,
): Promise<{ netG: ReferenceNet; norm: string }> {
  let r;
  try {
    r = await readReferenceNetwork(path, "generator");
  } catch (e) {
    throw new Error(
      `${what} is not a pix2pix generator that p2p can read: ${
        (e as Error).message
      }`,
    );
  }
  r.result.model.dispose();
  return {
    netG: r.net,
    norm: (r.result.config as { norm?: string }).norm ?? "batch",
  };
}
