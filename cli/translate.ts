/**
 * Translates images with a trained generator.
 *
 *   deno task translate --checkpoint runs/facades/checkpoints/latest --input label.png --output photo.png
 *   deno task translate --checkpoint ckpt --input labels/ --output photos/ --mode eval
 *   deno task translate --checkpoint checkpoints/facades_label2photo_pretrained --input label.png --output photo.png
 *   deno task translate --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA
 *
 * The last form is the reference's `test.py` command line (see
 * {@linkcode referenceTestMain}): results in `results/NAME/test_latest/`.
 *
 * Any image size works (reflect-padded to a multiple of 2^depth, cropped
 * back); grey or colour as the checkpoint says. Inference flags come from the
 * checkpoint's config, so none of the training flags are repeated here.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { checkOutputFile, exists } from "@p2p/internal";
import { imageToTensor, readImage, tensorToImage, writeImage } from "@p2p/data";
import {
  asGiven,
  type FlagTable,
  parseFlags,
  runMain,
  UsageError,
} from "./args.ts";
import {
  INFERENCE_FLAGS,
  type Translator,
  translatorFromFlags,
} from "./inference.ts";
import { referenceTestMain } from "./reference_tester.ts";
import { isReferenceTestCommand } from "./reference_tester_flags.ts";

const USAGE =
  "usage: deno task translate --checkpoint DIR|FILE.pth --input FILE|DIR --output FILE|DIR [flags]\n       deno task translate --dataroot DIR --name NAME [the reference test.py flags: --dataroot --help lists them]";

/** The flags of `deno task translate`. */
export const TRANSLATE_FLAGS: FlagTable = {
  checkpoint: INFERENCE_FLAGS.checkpoint,
  input: {
    type: "string",
    help: "Input image (PNG/JPEG) or folder of images.",
    metavar: "PATH",
    path: true,
  },
  output: {
    type: "string",
    help: "Output PNG, or folder (created) when --input is a folder.",
    metavar: "PATH",
    path: true,
  },
  ...INFERENCE_FLAGS,
  force: {
    type: "boolean",
    help:
      "Replace output PNGs that already exist (without it they are refused before any work).",
    default: false,
  },
};

const IMAGE = /\.(png|jpe?g)$/i;

async function isDirectory(path: string, flag: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    throw new UsageError(`--${flag} ${path} does not exist`);
  }
}

async function main(): Promise<void> {
  if (isReferenceTestCommand(Deno.args)) {
    await referenceTestMain(Deno.args);
    return;
  }
  const v = parseFlags(Deno.args, USAGE, TRANSLATE_FLAGS);
  if (!v) return;
  for (const f of ["checkpoint", "input", "output"]) {
    if (!v[f]) throw new UsageError(`--${f} is required\n${USAGE}`);
  }
  const input = v.input as string, output = v.output as string;
  const inputIsDir = await isDirectory(input, "input");
  let files: string[];
  if (inputIsDir) {
    files = [];
    for await (const e of Deno.readDir(input)) {
      if (e.isFile && IMAGE.test(e.name)) files.push(e.name);
    }
    files.sort();
    if (files.length === 0) {
      throw new UsageError(`--input ${input} holds no .png/.jpg/.jpeg images`);
    }
    await checkOutputs(
      files.map((f) => outputName(f)),
      output,
      v.force === true,
    );
    await Deno.mkdir(output, { recursive: true });
  } else {
    if (!IMAGE.test(input)) {
      throw new UsageError(
        `--input ${input}: expected a .png, .jpg or .jpeg file`,
      );
    }
    files = [input];
    await checkOutputFile(output, {
      force: v.force === true,
      flag: "--output",
    });
  }
  const translator = await translatorFromFlags(v, USAGE, ["input", "output"]);
  const t0 = performance.now();
  try {
    if (!inputIsDir) {
      const r = await translateFile(translator, input, output);
      console.log(
        asGiven(
          `${input} -> ${output} (${r.width}×${r.height}, mode ${translator.mode})`,
        ),
      );
      return;
    }
    // A folder: an unreadable image is reported and skipped, the rest go on.
    const failed: string[] = [];
    for (const [i, name] of files.entries()) {
      const src = `${input}/${name}`;
      const dst = `${output}/${outputName(name)}`;
      try {
        await translateFile(translator, src, dst);
        console.log(asGiven(`[${i + 1}/${files.length}] ${src} -> ${dst}`));
      } catch (e) {
        failed.push(name);
        console.error(
          asGiven(
            `[${i + 1}/${files.length}] failed: ${(e as Error).message ?? e}`,
          ),
        );
      }
    }
    const written = files.length - failed.length;
    console.log(
      `translated ${files.length} images in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s: ${written} written, ${failed.length} failed`,
    );
    if (failed.length) {
      throw new Error(
        `${failed.length} of ${files.length} images could not be translated: ${
          failed.slice(0, 10).join(", ")
        }${failed.length > 10 ? ", …" : ""}`,
      );
    }
  } finally {
    translator.dispose();
  }
}

/** The PNG a folder translation writes for the input file `name`. */
function outputName(name: string): string {
  return name.replace(IMAGE, ".png");
}

/**
 * Refuses, before any work, a folder translation whose outputs would collide
 * (`a.jpg` and `a.png` both become `a.png`) or, without `force`, replace
 * files already in `dir`.
 */
async function checkOutputs(
  names: string[],
  dir: string,
  force: boolean,
): Promise<void> {
  const seen = new Set<string>(),
    clashes: string[] = [],
    present: string[] = [];
  for (const name of names) {
    if (seen.has(name)) clashes.push(name);
    seen.add(name);
  }
  if (clashes.length) {
    throw new UsageError(
      `--input holds images that would write the same output: ${
        clashes.slice(0, 5).join(", ")
      } (a .jpg and a .png of one name); rename one`,
    );
  }
  if (await exists(dir) && !(await Deno.stat(dir)).isDirectory) {
    throw new UsageError(`--output ${dir} is a file, expected a folder`);
  }
  if (force) return;
  for (const name of seen) {
    if (await exists(`${dir}/${name}`)) present.push(name);
  }
  if (present.length) {
    throw new UsageError(
      `--output ${dir} already holds ${present.length} of the output files (${
        present.slice(0, 5).join(", ")
      }${
        present.length > 5 ? ", …" : ""
      }); pass --force to replace them, or choose another folder`,
    );
  }
}

/** Translates one image file into a PNG; returns the input's size. */
async function translateFile(
  translator: Translator,
  src: string,
  dst: string,
): Promise<{ width: number; height: number }> {
  const pixels = await readImage(src, { channels: translator.inChannels });
  const out = tf.tidy(() => {
    const batch = imageToTensor(pixels).expandDims(0) as tf.Tensor4D;
    return translator.run(batch).squeeze([0]) as tf.Tensor3D;
  });
  try {
    await writeImage(dst, await tensorToImage(out));
  } finally {
    out.dispose();
  }
  return { width: pixels.width, height: pixels.height };
}

if (import.meta.main) await runMain(main);
