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
import { imageToTensor, readImage, tensorToImage, writeImage } from "@p2p/data";
import { type FlagTable, parseFlags, runMain, UsageError } from "./args.ts";
import { INFERENCE_FLAGS, translatorFromFlags } from "./inference.ts";
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
  },
  output: {
    type: "string",
    help: "Output PNG, or folder (created) when --input is a folder.",
    metavar: "PATH",
  },
  ...INFERENCE_FLAGS,
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
    await Deno.mkdir(output, { recursive: true });
  } else {
    if (!IMAGE.test(input)) {
      throw new UsageError(
        `--input ${input}: expected a .png, .jpg or .jpeg file`,
      );
    }
    files = [input];
  }
  const translator = await translatorFromFlags(v, USAGE, ["input", "output"]);
  const { mode, inChannels } = translator;
  const t0 = performance.now();
  for (const [i, name] of files.entries()) {
    const src = inputIsDir ? `${input}/${name}` : name;
    const dst = inputIsDir
      ? `${output}/${name.replace(/\.(jpe?g|png)$/i, ".png")}`
      : output;
    const pixels = await readImage(src, { channels: inChannels });
    const x = imageToTensor(pixels);
    const batch = x.expandDims(0) as tf.Tensor4D;
    const y = translator.run(batch);
    const out = y.squeeze([0]) as tf.Tensor3D;
    await writeImage(dst, await tensorToImage(out));
    tf.dispose([x, batch, y, out]);
    if (inputIsDir) console.log(`[${i + 1}/${files.length}] ${src} -> ${dst}`);
    else {console.log(
        `${src} -> ${dst} (${pixels.width}×${pixels.height}, mode ${mode})`,
      );}
  }
  if (inputIsDir) {
    console.log(
      `translated ${files.length} images in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
  }
  translator.dispose();
}

if (import.meta.main) await runMain(main);
