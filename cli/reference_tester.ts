/**
 * The reference's `test.py`, as `deno task translate` runs it when given its
 * flags (`--dataroot`, `--name`, …): the generator
 * `CHECKPOINTS_DIR/NAME/EPOCH_net_G.pth` (a p2p run's
 * `CHECKPOINTS_DIR/NAME/checkpoints/latest` also works) translates up to
 * `--num_test` images, written as `RESULTS_DIR/NAME/PHASE_EPOCH/images/
 * <image>_real_A.png, _fake_B.png, _real_B.png` (`--model pix2pix`) or
 * `<image>_real.png, _fake.png` (`--model test`) with an `index.html` like
 * the reference's.
 *
 *   deno task translate --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA
 *   deno task translate --dataroot ./datasets/facades/testB --name facades_label2photo_pretrained --model test --netG unet_256 --direction BtoA --dataset_mode single --norm batch
 *
 * Differences, on purpose: the architecture is read from the weights when
 * no flag states it, and a `load_size` larger than `crop_size` crops at the
 * centre (the reference crops at a random place) so results are reproducible.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  applyTransform,
  centerTransformParams,
  createPixels,
  imageToTensor,
  type Pixels,
  readImage,
  resizeBicubic,
  resolveTransformOptions,
  toChannels,
  writeImage,
} from "@p2p/data";
import { type InferenceMode, sizeMultiple, translate } from "@p2p/models";
import { setDropoutSeed } from "@p2p/layers";
import type { ReferenceNet } from "@p2p/interop";
import { exists, userPath, writeTextFileAtomic } from "@p2p/internal";
import {
  backendFromFlags,
  type FlagValues,
  intFlag,
  numberFlag,
  parseFlags,
  UsageError,
} from "./args.ts";
import {
  IGNORED_REFERENCE_FLAGS,
  normaliseFlagSpelling,
  REFERENCE_TEST_FLAGS,
} from "./reference_tester_flags.ts";
import { checkpointKind, loadAnyGenerator } from "./reference_model.ts";
import { referenceIndexHtml } from "./reference_html.ts";

const USAGE =
  "usage: deno task translate --dataroot DIR --name NAME [--model pix2pix|test] [the reference's test.py flags]";

const IMAGE = /\.(jpe?g|png|ppm|bmp|tiff?)$/i;

/** The resolved settings of one reference test run. */
interface TestRun {
  v: FlagValues;
  name: string;
  epochLabel: string;
  webDir: string;
  pix2pix: boolean;
  aligned: boolean;
}

async function listImages(dir: string, flag: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = [];
    for await (const e of Deno.readDir(d)) entries.push(e);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.isDirectory) await walk(`${d}/${e.name}`);
      else if (e.isFile && IMAGE.test(e.name)) out.push(`${d}/${e.name}`);
    }
  };
  try {
    await walk(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`${flag} ${dir} is not a folder`);
    }
    throw e;
  }
  return out.sort();
}

/** The reference's `tensor2im`: `(x + 1) / 2 * 255` truncated to 8 bits, grey tiled to RGB. */
async function tensorToReferenceImage(t: tf.Tensor3D): Promise<Pixels> {
  const [h, w, c] = t.shape;
  const values = await t.data();
  const out = createPixels(w, h, 3);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) {
      // +1e-4 absorbs float error so that real images come back exactly.
      const v = Math.floor(
        ((values[i * c + (c === 1 ? 0 : k)] + 1) / 2) * 255 + 1e-4,
      );
      out.data[i * 3 + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** `save_image`'s aspect-ratio resize (PIL size arguments as the reference passes them). */
function aspectResize(im: Pixels, ratio: number): Pixels {
  const h = im.height, w = im.width;
  if (ratio > 1) return resizeBicubic(im, h, Math.trunc(w * ratio));
  if (ratio < 1) return resizeBicubic(im, Math.trunc(h / ratio), w);
  return im;
}

function resolveRun(v: FlagValues): TestRun {
  const pix2pix = v.model === "pix2pix";
  const mode = (v.dataset_mode as string | undefined) ??
    (pix2pix ? "aligned" : "single");
  if (!pix2pix && mode !== "single") {
    throw new UsageError(
      `--model test reads single images: use --dataset_mode single (received "${mode}"), or --model pix2pix for aligned pairs`,
    );
  }
  if (!v.dataroot) throw new UsageError(`--dataroot is required\n${USAGE}`);
  let name = v.name as string;
  const suffix = v.suffix as string;
  if (suffix) {
    name += "_" + suffix.replace(/\{(\w+)\}/g, (_, k) => String(v[k] ?? ""));
  }
  const loadIter = intFlag(v, "load_iter", 0);
  const epochLabel = loadIter > 0 ? `iter_${loadIter}` : v.epoch as string;
  let webDir = `${
    (v.results_dir as string).replace(/\/+$/, "")
  }/${name}/${v.phase}_${v.epoch}`;
  if (loadIter > 0) webDir += `_iter${loadIter}`;
  return { v, name, epochLabel, webDir, pix2pix, aligned: mode === "aligned" };
}

async function checkWebDir(webDir: string): Promise<void> {
  if (!(await exists(webDir))) return;
  for await (const e of Deno.readDir(webDir)) {
    if (e.name !== "images" && e.name !== "index.html") {
      throw new UsageError(
        `${webDir} holds ${e.name}, which a results folder does not; p2p writes results only into a new folder or previous results`,
      );
    }
  }
}

async function loadModel(run: TestRun) {
  const { v } = run;
  const base = `${
    userPath(v.checkpoints_dir as string).replace(/\/+$/, "")
  }/${run.name}`;
  const suffix = run.pix2pix ? "" : v.model_suffix as string;
  const refFile = `${base}/${run.epochLabel}_net_G${suffix}.pth`;
  const p2pDir = `${base}/checkpoints/${
    v.epoch === "latest" ? "latest" : `epoch_${v.epoch}`
  }`;
  const path = (await exists(refFile))
    ? refFile
    : (await checkpointKind(p2pDir)) === "p2p"
    ? p2pDir
    : null;
  if (!path) {
    throw new UsageError(
      `no model for --name ${run.name}: neither ${refFile} (the reference's) nor the p2p checkpoint ${p2pDir} exists`,
    );
  }
  const opt = (k: string) => v[k] === undefined ? undefined : intFlag(v, k, 1);
  return await loadAnyGenerator(path, {
    reference: {
      netG: v.netG as ReferenceNet | undefined,
      norm: v.norm as "batch" | "instance" | undefined,
      ngf: opt("ngf"),
      inputNc: opt("input_nc"),
      outputNc: opt("output_nc"),
      noDropout: v.no_dropout as boolean,
    },
  }).then((r) => ({ ...r, path }));
}

/**
 * Runs the reference test mode on `args` (the reference's `test.py` flags);
 * returns the results folder.
 */
export async function referenceTestMain(
  args: string[],
): Promise<string | null> {
  const v = parseFlags(
    normaliseFlagSpelling(args, REFERENCE_TEST_FLAGS),
    USAGE,
    REFERENCE_TEST_FLAGS,
  );
  if (!v) return null;
  const ignored = Object.keys(IGNORED_REFERENCE_FLAGS).filter((k) =>
    v[k] !== undefined && v[k] !== false
  );
  if (ignored.length) {
    console.log(
      `note: ignored (CUDA, viewers, training or forced by test.py): ${
        ignored.map((k) => `--${k}`).join(" ")
      }`,
    );
  }
  const run = resolveRun(v);
  const numTest = intFlag(v, "num_test", 0);
  const maxSize = v.max_dataset_size === "Infinity"
    ? Infinity
    : intFlag(v, "max_dataset_size", 1);
  const ratio = numberFlag(v, "aspect_ratio", 1e-3);
  const width = intFlag(v, "display_winsize", 1);
  const crop = intFlag(v, "crop_size", 1);
  const transform = resolveTransformOptions({
    preprocess: v.preprocess as never,
    cropSize: crop,
    loadSize: v.load_size === undefined ? crop : intFlag(v, "load_size", 1),
    noFlip: true,
  });
  const dataroot = userPath(v.dataroot as string);
  const dir = run.aligned ? `${dataroot}/${v.phase}` : dataroot;
  const files =
    (await listImages(dir, run.aligned ? "--dataroot/--phase" : "--dataroot"))
      .slice(0, maxSize === Infinity ? undefined : maxSize);
  if (files.length === 0) throw new UsageError(`${dir} holds no images`);
  const webDir = userPath(run.webDir);
  await checkWebDir(webDir);
  await backendFromFlags(v);
  const { generator, config, path } = await loadModel(run);
  console.log(
    `model ${path}: ${config.generator.kind}, mode ${
      v.eval ? "eval" : "paper (as test.py without --eval)"
    }`,
  );
  console.log("creating web directory", run.webDir);
  setDropoutSeed(intFlag(v, "seed", 0));
  const mode: InferenceMode = v.eval ? "eval" : "paper";
  const multiple = sizeMultiple(config.generator);
  const inC = (config.generator.inChannels ?? 3) as 1 | 3;
  const outC = (config.generator.outChannels ?? 3) as 1 | 3;
  const rows: { name: string; images: [string, string][] }[] = [];
  try {
    for (const [i, file] of files.slice(0, numTest).entries()) {
      const visuals = await translateOne(file, {
        run,
        transform,
        inC,
        outC,
        gen: (x) => translate(generator, x, { mode, multiple }),
      });
      const stem = file.split("/").pop()!.replace(/\.[^.]*$/, "");
      const images: [string, string][] = [];
      for (const [label, t] of visuals) {
        const im = aspectResize(await tensorToReferenceImage(t), ratio);
        tf.dispose(t);
        const fname = `${stem}_${label}.png`;
        await writeImage(`${webDir}/images/${fname}`, im);
        images.push([fname, label]);
      }
      rows.push({ name: stem, images });
      if (i % 5 === 0) {
        console.log(
          `processing (${String(i).padStart(4, "0")})-th image... ['${file}']`,
        );
      }
    }
  } finally {
    generator.dispose();
  }
  const title =
    `Experiment = ${run.name}, Phase = ${v.phase}, Epoch = ${v.epoch}`;
  await writeTextFileAtomic(
    `${webDir}/index.html`,
    referenceIndexHtml(title, rows, width),
  );
  console.log(
    `wrote ${rows.length} results to ${run.webDir}/images and ${run.webDir}/index.html`,
  );
  return webDir;
}

/** Reads one data item as the reference's aligned / single data set does, and translates it. */
async function translateOne(
  file: string,
  o: {
    run: TestRun;
    transform: ReturnType<typeof resolveTransformOptions>;
    inC: 1 | 3;
    outC: 1 | 3;
    gen: (x: tf.Tensor4D) => tf.Tensor4D;
  },
): Promise<[string, tf.Tensor3D][]> {
  const prep = (im: Pixels, name: string): tf.Tensor3D => {
    const params = centerTransformParams(im.width, im.height, o.transform);
    return imageToTensor(applyTransform(im, params, { ...o.transform, name }));
  };
  if (!o.run.aligned) {
    const a = prep(await readImage(file, { channels: o.inC }), file);
    const fake = tf.tidy(() =>
      o.gen(a.expandDims(0) as tf.Tensor4D).squeeze([0]) as tf.Tensor3D
    );
    return [["real", a], ["fake", fake]];
  }
  const ab = await readImage(file, { channels: 3 });
  const w2 = Math.trunc(ab.width / 2);
  const half = (x0: number, x1: number): Pixels => {
    const out = createPixels(x1 - x0, ab.height, 3);
    for (let y = 0; y < ab.height; y++) {
      out.data.set(
        ab.data.subarray((y * ab.width + x0) * 3, (y * ab.width + x1) * 3),
        y * (x1 - x0) * 3,
      );
    }
    return out;
  };
  const atob = o.run.v.direction === "AtoB";
  const left = half(0, w2), right = half(w2, ab.width);
  // The reference's transforms.Grayscale(1) for 1-channel sides (PIL "L" weights).
  const realA = prep(toChannels(atob ? left : right, o.inC), file);
  const realB = prep(toChannels(atob ? right : left, o.outC), file);
  const fake = tf.tidy(() =>
    o.gen(realA.expandDims(0) as tf.Tensor4D).squeeze([0]) as tf.Tensor3D
  );
  return [["real_A", realA], ["fake_B", fake], ["real_B", realB]];
}
