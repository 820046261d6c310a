/**
 * Paired (aligned) image data sets: a folder of AB images (A left half, B
 * right half) or two folders `A/` and `B/` matched by file name, with optional
 * `train/`, `val/`, `test/` splits. Every file is read and checked when the
 * data set is opened, so bad input fails before training starts; decoded
 * images stay in memory as 8-bit typed arrays.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type Channels,
  checkChannels,
  decodeImage,
  type ImageBatch,
  type ImageTensor,
  type Pixels,
  pixelsToFloat,
  toChannels,
} from "./image.ts";
import { crop } from "./resize.ts";
import { type Rng, shuffledIndices } from "./rng.ts";
import {
  applyTransform,
  centerTransformParams,
  drawTransformParams,
  evalTransformOptions,
  resizedSize,
  type ResolvedTransformOptions,
  resolveTransformOptions,
  transformedSize,
  type TransformOptions,
} from "./transform.ts";

/** Which side is the model's input: `AtoB` maps A to B, `BtoA` maps B to A. */
export type Direction = "AtoB" | "BtoA";

/** Where a data set's pairs came from. */
export type DatasetLayout = "AB" | "A/B" | "memory";

/** Options of {@linkcode pairedDataset} and {@linkcode pairedDatasetFromPairs}. */
export interface PairedDatasetOptions extends TransformOptions {
  /** Split subfolder to use when the root has `train/`, `val/`, `test/` (ignored when it has none). @default {"train"} */
  split?: string;
  /** `AtoB`: A is the model input; `BtoA`: B is. @default {"AtoB"} */
  direction?: Direction;
  /** Channels of the model input (1 grey or 3 RGB). @default {3} */
  inChannels?: Channels;
  /** Channels of the model output / target (1 grey or 3 RGB). @default {3} */
  outChannels?: Channels;
  /** Use at most this many pairs (the first, in file-name order). @default {Infinity} */
  maxSize?: number;
}

/** {@linkcode PairedDatasetOptions} with every default filled in. */
export interface ResolvedPairedDatasetOptions extends ResolvedTransformOptions {
  /** Split requested. */
  readonly split: string;
  /** Direction. */
  readonly direction: Direction;
  /** Channels of the model input. */
  readonly inChannels: Channels;
  /** Channels of the target. */
  readonly outChannels: Channels;
  /** Maximum number of pairs. */
  readonly maxSize: number;
}

/** One pair as stored: A and B in file orientation (before the direction swap). */
export interface PairSource {
  /** A name for messages and outputs (e.g. the file name). */
  readonly name: string;
  /** The A image. */
  readonly a: Pixels;
  /** The B image (same width and height as A). */
  readonly b: Pixels;
}

/** Options of {@linkcode PairedDataset.get} and friends. */
export interface GetOptions {
  /** Random resize-crop-flip (training); otherwise the deterministic test-time transform. @default {false} */
  jitter?: boolean;
  /** Source of randomness; required when `jitter` is true. */
  rng?: Rng;
}

/** One pair as 8-bit pixels, already direction-swapped and transformed. */
export interface PixelPair {
  /** Model input. */
  readonly input: Pixels;
  /** Target. */
  readonly target: Pixels;
  /** Pair name. */
  readonly name: string;
}

/** One pair as tensors in [-1, 1]; the caller disposes them. */
export interface Pair {
  /** Model input `[h, w, inChannels]`. */
  readonly input: ImageTensor;
  /** Target `[h, w, outChannels]`. */
  readonly target: ImageTensor;
  /** Pair name. */
  readonly name: string;
}

/** A batch of pairs as tensors in [-1, 1]; the caller disposes them. */
export interface PairBatch {
  /** Model inputs `[n, h, w, inChannels]`. */
  readonly input: ImageBatch;
  /** Targets `[n, h, w, outChannels]`. */
  readonly target: ImageBatch;
  /** Pair names, in batch order. */
  readonly names: readonly string[];
  /** Pair indices, in batch order. */
  readonly indices: readonly number[];
}

/** Options of {@linkcode PairedDataset.batches}. */
export interface BatchesOptions extends GetOptions {
  /** Pairs per batch. @default {1} */
  batchSize?: number;
  /** Visit pairs in a random order drawn from `rng` (needs `rng`). @default {true} */
  shuffle?: boolean;
  /** Skip a last batch smaller than `batchSize`. @default {false} */
  dropLast?: boolean;
}

/** A validated, in-memory paired data set. */
export interface PairedDataset {
  /** Folder the pairs were read from (`""` for in-memory pairs). */
  readonly dir: string;
  /** How the pairs were stored. */
  readonly layout: DatasetLayout;
  /** Number of pairs. */
  readonly size: number;
  /** Pair names (file names), sorted. */
  readonly names: readonly string[];
  /** The options in force. */
  readonly options: ResolvedPairedDatasetOptions;
  /** Size `[width, height]` of every transformed pair, or `null` when pairs differ (preprocess `none`/`scale_width`). */
  readonly outputSize: readonly [number, number] | null;
  /** The untransformed pair `index` (direction-swapped, channel-converted). */
  source(index: number): PixelPair;
  /** Pair `index` transformed, as 8-bit pixels. */
  pixels(index: number, options?: GetOptions): PixelPair;
  /** Pair `index` transformed, as tensors in [-1, 1] (`a` is the model input). */
  get(index: number, options?: GetOptions): Promise<Pair>;
  /** The pairs at `indices` stacked into `[n, h, w, c]` tensors (one rng draw set per pair, in order). */
  batch(indices: readonly number[], options?: GetOptions): Promise<PairBatch>;
  /**
   * One epoch of batches. With `shuffle` the order comes first from `rng`
   * (`size - 1` draws), then each pair's jitter (3 draws each) as batches are taken.
   */
  batches(options?: BatchesOptions): AsyncGenerator<PairBatch>;
}

const SPLITS = ["train", "val", "test"];
const IMAGE_EXT = /\.(png|jpe?g)$/i;
const UNSUPPORTED_EXT = /\.(bmp|gif|tiff?|webp|ppm|pgm|pbm)$/i;

/** Fills defaults and validates; errors name the option and the value received. */
export function resolvePairedDatasetOptions(
  options: PairedDatasetOptions = {},
): ResolvedPairedDatasetOptions {
  const direction = options.direction ?? "AtoB";
  if (direction !== "AtoB" && direction !== "BtoA") {
    throw new Error(
      `direction: expected "AtoB" or "BtoA", received ${
        JSON.stringify(direction)
      }`,
    );
  }
  const maxSize = options.maxSize ?? Infinity;
  if (!(maxSize === Infinity || (Number.isInteger(maxSize) && maxSize > 0))) {
    throw new Error(
      `maxSize: expected a positive integer, received ${
        JSON.stringify(maxSize)
      }`,
    );
  }
  const split = options.split ?? "train";
  if (typeof split !== "string" || split === "" || split.includes("/")) {
    throw new Error(
      `split: expected a folder name such as "train", received ${
        JSON.stringify(split)
      }`,
    );
  }
  return {
    ...resolveTransformOptions(options),
    split,
    direction,
    inChannels: checkChannels(options.inChannels ?? 3, "inChannels"),
    outChannels: checkChannels(options.outChannels ?? 3, "outChannels"),
    maxSize,
  };
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/").replace(/\/+/g, "/");
}

async function subdirs(dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.add(e.name);
    else if (e.isSymlink) {
      const st = await Deno.stat(join(dir, e.name)).catch(() => null);
      if (st?.isDirectory) out.add(e.name);
    }
  }
  return out;
}

interface Listing {
  images: string[];
  unsupported: string[];
}

async function listImages(dir: string): Promise<Listing> {
  const images: string[] = [], unsupported: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory || e.name.startsWith(".")) continue;
    if (IMAGE_EXT.test(e.name)) images.push(e.name);
    else if (UNSUPPORTED_EXT.test(e.name)) unsupported.push(e.name);
  }
  const byName = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return { images: images.sort(byName), unsupported: unsupported.sort(byName) };
}

function stem(name: string): string {
  return name.replace(/\.[^.]*$/, "");
}

function listSome(names: readonly string[], max = 10): string {
  const shown = names.slice(0, max).join(", ");
  return names.length > max ? `${shown}, … (${names.length} in all)` : shown;
}

interface Located {
  dir: string;
  layout: "AB" | "A/B";
  aDir?: string;
  bDir?: string;
}

async function locate(root: string, split: string): Promise<Located> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(root);
  } catch (e) {
    throw new Error(
      `data set '${root}': cannot open the folder (${(e as Error).message})`,
    );
  }
  if (!st.isDirectory) {
    throw new Error(
      `data set '${root}': expected a folder of images, received a file`,
    );
  }
  const missingSplit = (where: string, found: string[]): Error =>
    new Error(
      `data set '${root}': expected a split folder '${split}' in '${where}', found only ${
        found.map((s) => `'${s}/'`).join(", ")
      }`,
    );
  const top = await subdirs(root);
  if (top.has("A") || top.has("B")) {
    if (!top.has("A") || !top.has("B")) {
      throw new Error(
        `data set '${root}': has '${top.has("A") ? "A" : "B"}/' but no '${
          top.has("A") ? "B" : "A"
        }/' folder; expected both A/ and B/ with matching file names`,
      );
    }
    const aSubs = await subdirs(join(root, "A"));
    const bSubs = await subdirs(join(root, "B"));
    if (aSubs.has(split) && bSubs.has(split)) {
      return {
        dir: root,
        layout: "A/B",
        aDir: join(root, "A", split),
        bDir: join(root, "B", split),
      };
    }
    const found = SPLITS.filter((s) => aSubs.has(s) || bSubs.has(s));
    if (found.length > 0) {
      throw missingSplit(
        aSubs.has(split) ? join(root, "B") : join(root, "A"),
        found,
      );
    }
    return {
      dir: root,
      layout: "A/B",
      aDir: join(root, "A"),
      bDir: join(root, "B"),
    };
  }
  let dir = root;
  if (top.has(split)) dir = join(root, split);
  else {
    const found = SPLITS.filter((s) => top.has(s));
    if (found.length > 0) throw missingSplit(root, found);
  }
  if (dir !== root) {
    const inner = await subdirs(dir);
    if (inner.has("A") || inner.has("B")) {
      if (!inner.has("A") || !inner.has("B")) {
        throw new Error(
          `data set '${dir}': has '${inner.has("A") ? "A" : "B"}/' but no '${
            inner.has("A") ? "B" : "A"
          }/' folder; expected both A/ and B/ with matching file names`,
        );
      }
      return { dir, layout: "A/B", aDir: join(dir, "A"), bDir: join(dir, "B") };
    }
  }
  return { dir, layout: "AB" };
}

function noImagesError(dir: string, listing: Listing): Error {
  const extra = listing.unsupported.length > 0
    ? `; found unsupported ${
      listSome(listing.unsupported)
    } (convert them to PNG or JPEG)`
    : "";
  return new Error(
    `data set '${dir}': expected PNG or JPEG images (.png, .jpg, .jpeg), found none${extra}`,
  );
}

class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    this.list.push(message);
  }
  throwIfAny(dir: string): void {
    if (this.list.length === 0) return;
    if (this.list.length === 1) throw new Error(this.list[0]);
    const shown = this.list.slice(0, 20).map((m) => `  - ${m}`).join("\n");
    const more = this.list.length > 20
      ? `\n  … and ${this.list.length - 20} more`
      : "";
    throw new Error(
      `data set '${dir}': ${this.list.length} problems:\n${shown}${more}`,
    );
  }
}

async function tryRead(
  path: string,
  problems: Problems,
): Promise<Pixels | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    problems.add(`cannot read image '${path}': ${(e as Error).message}`);
    return null;
  }
  try {
    return await decodeImage(bytes, path);
  } catch (e) {
    problems.add((e as Error).message);
    return null;
  }
}

/**
 * Opens a paired data set from a folder, reading and validating every file.
 *
 * Layouts (checked in this order): `root/A/` + `root/B/` (optionally
 * `root/A/<split>/` + `root/B/<split>/`); `root/<split>/` holding AB images or
 * `A/` + `B/`; `root/` holding AB images. Pairs in `A/` and `B/` are matched by
 * file name without extension. Throws one error listing every problem found
 * (unreadable or corrupt file, odd AB width, halves of different sizes, no
 * images, unmatched names, images smaller than the crop).
 *
 * @example
 * ```ts ignore
 * const ds = await pairedDataset("data/facades", { split: "train", direction: "BtoA" });
 * const { a, b, name } = await ds.get(0, { jitter: true, rng: createRng(1) });
 * ```
 */
export async function pairedDataset(
  root: string,
  options: PairedDatasetOptions = {},
): Promise<PairedDataset> {
  const opts = resolvePairedDatasetOptions(options);
  const where = await locate(root, opts.split);
  const problems = new Problems();
  const sources: PairSource[] = [];
  if (where.layout === "AB") {
    const listing = await listImages(where.dir);
    if (listing.images.length === 0) throw noImagesError(where.dir, listing);
    for (const u of listing.unsupported) {
      problems.add(
        `cannot read image '${
          join(where.dir, u)
        }': expected PNG or JPEG, received another format`,
      );
    }
    for (const name of listing.images.slice(0, opts.maxSize)) {
      const path = join(where.dir, name);
      const ab = await tryRead(path, problems);
      if (!ab) continue;
      if (ab.width % 2 !== 0) {
        problems.add(
          `AB image '${path}' is ${ab.width}x${ab.height}: expected an even width (A is the left half, B the right half), received ${ab.width}`,
        );
        continue;
      }
      const half = ab.width / 2;
      sources.push({
        name,
        a: crop(ab, 0, 0, half, ab.height),
        b: crop(ab, half, 0, half, ab.height),
      });
    }
  } else {
    const aDir = where.aDir!, bDir = where.bDir!;
    const aList = await listImages(aDir), bList = await listImages(bDir);
    if (aList.images.length === 0) throw noImagesError(aDir, aList);
    if (bList.images.length === 0) throw noImagesError(bDir, bList);
    for (const [d, l] of [[aDir, aList], [bDir, bList]] as const) {
      for (const u of l.unsupported) {
        problems.add(
          `cannot read image '${
            join(d, u)
          }': expected PNG or JPEG, received another format`,
        );
      }
    }
    const index = (dir: string, names: string[]): Map<string, string> => {
      const m = new Map<string, string>();
      for (const n of names) {
        const s = stem(n);
        const prev = m.get(s);
        if (prev !== undefined) {
          problems.add(
            `'${join(dir, n)}' and '${
              join(dir, prev)
            }' have the same name without extension: expected one file per pair name`,
          );
        } else m.set(s, n);
      }
      return m;
    };
    const aMap = index(aDir, aList.images), bMap = index(bDir, bList.images);
    const onlyA = [...aMap.keys()].filter((s) => !bMap.has(s)).map((s) =>
      aMap.get(s)!
    );
    const onlyB = [...bMap.keys()].filter((s) => !aMap.has(s)).map((s) =>
      bMap.get(s)!
    );
    if (onlyA.length > 0 || onlyB.length > 0) {
      const parts = [];
      if (onlyA.length > 0) parts.push(`only in '${aDir}': ${listSome(onlyA)}`);
      if (onlyB.length > 0) parts.push(`only in '${bDir}': ${listSome(onlyB)}`);
      problems.add(
        `data set '${where.dir}': expected the same file names in A/ and B/, but ${
          parts.join("; ")
        }`,
      );
    }
    const names = [...aMap.keys()].filter((s) => bMap.has(s)).map((s) =>
      aMap.get(s)!
    );
    for (const name of names.slice(0, opts.maxSize)) {
      const bName = bMap.get(stem(name))!;
      const a = await tryRead(join(aDir, name), problems);
      const b = await tryRead(join(bDir, bName), problems);
      if (!a || !b) continue;
      if (a.width !== b.width || a.height !== b.height) {
        problems.add(
          `pair '${name}': expected '${
            join(aDir, name)
          }' (${a.width}x${a.height}) and '${
            join(bDir, bName)
          }' (${b.width}x${b.height}) to have the same size`,
        );
        continue;
      }
      sources.push({ name, a, b });
    }
  }
  return build(sources, opts, where.dir, where.layout, problems);
}

/**
 * Builds a data set from pairs already in memory (e.g. the embedded generated
 * sets), with the same options and checks as {@linkcode pairedDataset}.
 */
export function pairedDatasetFromPairs(
  pairs: readonly PairSource[],
  options: PairedDatasetOptions = {},
): PairedDataset {
  const opts = resolvePairedDatasetOptions(options);
  const problems = new Problems();
  if (pairs.length === 0) {
    throw new Error(
      "pairedDatasetFromPairs: expected at least one pair, received none",
    );
  }
  const sources: PairSource[] = [];
  for (const p of pairs.slice(0, opts.maxSize)) {
    if (p.a.width !== p.b.width || p.a.height !== p.b.height) {
      problems.add(
        `pair '${p.name}': expected A (${p.a.width}x${p.a.height}) and B (${p.b.width}x${p.b.height}) to have the same size`,
      );
    } else sources.push(p);
  }
  return build(sources, opts, "", "memory", problems);
}

/** Runs `fn` and returns its result or its error as a settled promise. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

function build(
  raw: PairSource[],
  opts: ResolvedPairedDatasetOptions,
  dir: string,
  layout: DatasetLayout,
  problems: Problems,
): PairedDataset {
  const label = dir === "" ? "in-memory pairs" : dir;
  const swap = opts.direction === "BtoA";
  const pairs: PixelPair[] = raw.map((p) => ({
    name: p.name,
    input: toChannels(swap ? p.b : p.a, opts.inChannels),
    target: toChannels(swap ? p.a : p.b, opts.outChannels),
  }));
  const evalOpts = evalTransformOptions(opts);
  if (opts.preprocess.includes("crop")) {
    for (const p of pairs) {
      for (const o of [opts, evalOpts]) {
        const [w, h] = resizedSize(p.input.width, p.input.height, o);
        if (w < opts.cropSize || h < opts.cropSize) {
          problems.add(
            `pair '${p.name}' is ${p.input.width}x${p.input.height} (${w}x${h} after preprocess ${opts.preprocess}): expected at least cropSize ${opts.cropSize} on each side`,
          );
          break;
        }
      }
    }
  }
  problems.throwIfAny(label);
  if (pairs.length === 0) {
    throw new Error(
      `data set '${label}': expected at least one pair, found none`,
    );
  }

  const sizes = new Set(
    pairs.map((p) =>
      transformedSize(p.input.width, p.input.height, opts).join("x")
    ),
  );
  const evalSizes = new Set(
    pairs.map((p) =>
      transformedSize(p.input.width, p.input.height, evalOpts).join("x")
    ),
  );
  const outputSize = sizes.size === 1 && evalSizes.size === 1 &&
      [...sizes][0] === [...evalSizes][0]
    ? [...sizes][0].split("x").map(Number) as [number, number]
    : null;
  const names = pairs.map((p) => p.name);

  const checkIndex = (i: number): PixelPair => {
    if (!Number.isInteger(i) || i < 0 || i >= pairs.length) {
      throw new Error(
        `pair index: expected an integer in [0, ${
          pairs.length - 1
        }], received ${i}`,
      );
    }
    return pairs[i];
  };
  const pixels = (i: number, options: GetOptions = {}): PixelPair => {
    const p = checkIndex(i);
    let o: ResolvedTransformOptions, params;
    if (options.jitter) {
      if (!options.rng) {
        throw new Error(
          "jitter: expected an rng (e.g. createRng(seed)), received none",
        );
      }
      o = opts;
      params = drawTransformParams(
        p.input.width,
        p.input.height,
        o,
        options.rng,
      );
    } else {
      o = evalOpts;
      params = centerTransformParams(p.input.width, p.input.height, o);
    }
    return {
      name: p.name,
      input: applyTransform(p.input, params, { ...o, name: p.name }),
      target: applyTransform(p.target, params, { ...o, name: p.name }),
    };
  };
  const batchSync = (
    indices: readonly number[],
    options: GetOptions = {},
  ): PairBatch => {
    if (indices.length === 0) {
      throw new Error("batch: expected at least one index, received none");
    }
    const items = indices.map((i) => pixels(i, options));
    const { width: w, height: h } = items[0].input;
    for (const it of items) {
      if (it.input.width !== w || it.input.height !== h) {
        throw new Error(
          `batch: cannot stack pairs of different sizes: '${
            items[0].name
          }' is ${w}x${h}, '${it.name}' is ${it.input.width}x${it.input.height}; use batch size 1 or a preprocess that crops`,
        );
      }
    }
    const stack = (key: "input" | "target", c: Channels): ImageBatch => {
      const per = w * h * c;
      const buf = new Float32Array(per * items.length);
      items.forEach((it, k) => buf.set(pixelsToFloat(it[key]), k * per));
      return tf.tensor4d(buf, [items.length, h, w, c], "float32");
    };
    return {
      input: stack("input", opts.inChannels),
      target: stack("target", opts.outChannels),
      names: items.map((it) => it.name),
      indices: [...indices],
    };
  };
  const batch = (
    indices: readonly number[],
    options: GetOptions = {},
  ): Promise<PairBatch> => settle(() => batchSync(indices, options));
  return {
    dir,
    layout,
    size: pairs.length,
    names,
    options: opts,
    outputSize,
    source: checkIndex,
    pixels,
    get(i: number, options: GetOptions = {}): Promise<Pair> {
      return settle(() => {
        const p = pixels(i, options);
        const t = (im: Pixels): ImageTensor =>
          tf.tensor3d(
            pixelsToFloat(im),
            [im.height, im.width, im.channels],
            "float32",
          );
        return { input: t(p.input), target: t(p.target), name: p.name };
      });
    },
    batch,
    async *batches(options: BatchesOptions = {}): AsyncGenerator<PairBatch> {
      const batchSize = options.batchSize ?? 1;
      if (!Number.isInteger(batchSize) || batchSize <= 0) {
        throw new Error(
          `batchSize: expected a positive integer, received ${batchSize}`,
        );
      }
      const shuffle = options.shuffle ?? true;
      if (shuffle && !options.rng) {
        throw new Error(
          "batches: shuffle needs an rng (e.g. createRng(seed)), received none",
        );
      }
      const order = shuffle
        ? shuffledIndices(pairs.length, options.rng!)
        : names.map((_, i) => i);
      for (let s = 0; s < order.length; s += batchSize) {
        const idx = order.slice(s, s + batchSize);
        if (idx.length < batchSize && options.dropLast) break;
        yield await batch(idx, options);
      }
    },
  };
}
