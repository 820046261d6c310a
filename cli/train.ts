/**
 * `deno task train`: train pix2pix on an embedded procedural data set or a
 * folder of paired images. All the work is in `@p2p/train`'s `train()`.
 *
 * Examples:
 *   deno task train                      # the demo: embedded facades, 64×64, a few minutes on a CPU
 *   deno task train --dataset edges2shapes --out runs/shapes
 *   deno task train --data data/facades --direction BtoA --size 256 --depth 8 --ngf 64 --ndf 64 --epochs 100 --epochs-decay 100
 *   deno task train --out runs/facades --resume          # continue a stopped run at its exact step
 *   deno task train --backend cpu --size 32 --depth 5 --ngf 4 --ndf 4 --epochs 1 --epochs-decay 0
 *
 * Ctrl-C stops after the current step and saves `OUT/checkpoints/latest`
 * (a second Ctrl-C quits at once).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "@p2p/backend";
import { PRESET_NAMES, type PresetName } from "@p2p/models";
import { DATASET_NAMES, type DatasetName } from "@p2p/data";
import {
  formatDuration,
  formatProgressBar,
  formatProgressLine,
  GAN_MODES,
  type GanMode,
  SCHEDULE_POLICIES,
  type SchedulePolicy,
  train,
  TRAIN_DEFAULTS,
  type TrainOptions,
  type TrainProgress,
} from "@p2p/train";
import {
  BACKEND_FLAGS,
  backendOptionsFromFlags,
  type FlagTable,
  type FlagValues,
  intFlag,
  numberFlag,
  parseFlags,
  runMain,
  UsageError,
} from "./args.ts";

const USAGE =
  "usage: deno task train [--data DIR | --dataset NAME] [--preset P] [--size N] [--depth N] [--ngf N] [--ndf N] [--batch N] [--epochs N] [--epochs-decay N] [--lambda-l1 X] [--gan-mode M] [--backend B] [--seed N] [--out DIR] [--resume] [flags]";

const d = TRAIN_DEFAULTS;

/** The flags of `deno task train`. */
export const TRAIN_FLAGS: FlagTable = {
  data: {
    type: "string",
    help:
      "Folder of paired images: AB images (A left, B right) or A/ + B/, optional train/ val/ test/.",
    default: "none (train the embedded --dataset)",
    metavar: "DIR",
  },
  dataset: {
    type: "string",
    help: "Embedded procedural data set, used when --data is not given.",
    default: d.dataset,
    choices: DATASET_NAMES,
    metavar: "NAME",
  },
  count: {
    type: "string",
    help: "Training pairs generated for --dataset.",
    default: String(d.count),
    metavar: "N",
  },
  preset: {
    type: "string",
    help: "Networks: the PyTorch reference, the Keras tutorial, ...",
    default: d.preset,
    choices: PRESET_NAMES,
    metavar: "P",
  },
  size: {
    type: "string",
    help:
      "Training image side (pairs resized to size·286/256, randomly cropped); a multiple of 2^depth.",
    default: String(d.size),
    metavar: "N",
  },
  depth: {
    type: "string",
    help: "U-Net depth (8 for 256×256 as the reference).",
    default: String(d.depth),
    metavar: "N",
  },
  ngf: {
    type: "string",
    help: "Generator filters (reference 64).",
    default: String(d.ngf),
    metavar: "N",
  },
  ndf: {
    type: "string",
    help: "Discriminator filters (reference 64).",
    default: String(d.ndf),
    metavar: "N",
  },
  "in-channels": {
    type: "string",
    help: "Input channels: 1 grey or 3 RGB.",
    default: String(d.inChannels),
    choices: ["1", "3"],
    metavar: "N",
  },
  "out-channels": {
    type: "string",
    help: "Output channels: 1 grey or 3 RGB.",
    default: String(d.outChannels),
    choices: ["1", "3"],
    metavar: "N",
  },
  batch: {
    type: "string",
    help: "Pairs per step (reference 1).",
    default: String(d.batch),
    metavar: "N",
  },
  epochs: {
    type: "string",
    help: "Epochs at the initial learning rate (reference 100).",
    default: String(d.epochs),
    metavar: "N",
  },
  "epochs-decay": {
    type: "string",
    help: "Epochs of linear decay to 0 afterwards (reference 100).",
    default: String(d.epochsDecay),
    metavar: "N",
  },
  lr: {
    type: "string",
    help: "Adam learning rate.",
    default: String(d.lr),
    metavar: "X",
  },
  policy: {
    type: "string",
    help: "Learning-rate schedule.",
    default: d.policy,
    choices: SCHEDULE_POLICIES,
    metavar: "P",
  },
  "lambda-l1": {
    type: "string",
    help: "Weight of the L1 term.",
    default: String(d.lambdaL1),
    metavar: "X",
  },
  "gan-mode": {
    type: "string",
    help: "GAN objective.",
    default: d.ganMode,
    choices: GAN_MODES,
    metavar: "M",
  },
  direction: {
    type: "string",
    help: "AtoB: A is the input; BtoA: B is.",
    default: d.direction,
    choices: ["AtoB", "BtoA"],
    metavar: "D",
  },
  ...BACKEND_FLAGS,
  seed: {
    type: "string",
    help: "Seed of the weights, shuffle, jitter and dropout.",
    default: String(d.seed),
    metavar: "N",
  },
  out: {
    type: "string",
    help: "Run folder: log.jsonl, samples/, index.html, checkpoints/.",
    default: "runs/<dataset or data folder name>",
    metavar: "DIR",
  },
  resume: {
    type: "boolean",
    help:
      "Continue the run in --out from checkpoints/latest at its exact step.",
    default: false,
  },
  "display-every": {
    type: "string",
    help: "Steps between sample grids (and checkpoints/latest).",
    default: String(d.displayEvery),
    metavar: "N",
  },
  "save-every": {
    type: "string",
    help: "Epochs between kept checkpoints/epoch_<n>.",
    default: String(d.saveEvery),
    metavar: "N",
  },
};

/** Whether `--name` appears in `args` (so resume only sees what was given). */
function given(args: string[], name: string): boolean {
  return args.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
}

/**
 * Turns parsed flags into {@linkcode TrainOptions}, keeping only flags given
 * on the command line (the package holds the defaults). Errors name the flag.
 */
export function trainOptionsFromFlags(
  v: FlagValues,
  args: string[],
): TrainOptions {
  const o: TrainOptions = {};
  const has = (n: string) => given(args, n);
  if (has("data") && has("dataset")) {
    throw new UsageError("give either --data or --dataset, not both");
  }
  if (has("data")) o.data = v.data as string;
  if (has("dataset")) o.dataset = v.dataset as DatasetName;
  if (has("count")) o.count = intFlag(v, "count", 1);
  if (has("preset")) o.preset = v.preset as PresetName;
  if (has("size")) o.size = intFlag(v, "size", 16, 4096);
  if (has("depth")) o.depth = intFlag(v, "depth", 1, 12);
  if (has("ngf")) o.ngf = intFlag(v, "ngf", 1, 1024);
  if (has("ndf")) o.ndf = intFlag(v, "ndf", 1, 1024);
  if (has("in-channels")) o.inChannels = Number(v["in-channels"]) as 1 | 3;
  if (has("out-channels")) o.outChannels = Number(v["out-channels"]) as 1 | 3;
  if (has("batch")) o.batch = intFlag(v, "batch", 1);
  if (has("epochs")) o.epochs = intFlag(v, "epochs", 0);
  if (has("epochs-decay")) o.epochsDecay = intFlag(v, "epochs-decay", 0);
  if (has("lr")) o.lr = numberFlag(v, "lr", 0);
  if (has("policy")) o.policy = v.policy as SchedulePolicy;
  if (has("lambda-l1")) o.lambdaL1 = numberFlag(v, "lambda-l1", 0);
  if (has("gan-mode")) o.ganMode = v["gan-mode"] as GanMode;
  if (has("direction")) o.direction = v.direction as "AtoB" | "BtoA";
  if (has("seed")) o.seed = intFlag(v, "seed", 0);
  if (has("out")) o.out = v.out as string;
  if (has("display-every")) o.displayEvery = intFlag(v, "display-every", 1);
  if (has("save-every")) o.saveEvery = intFlag(v, "save-every", 1);
  o.resume = v.resume === true;
  if (
    (o.epochs ?? d.epochs) + (o.epochsDecay ?? d.epochsDecay) < 1 && !o.resume
  ) {
    throw new UsageError(
      `--epochs + --epochs-decay must be at least 1, received ${
        o.epochs ?? d.epochs
      } + ${o.epochsDecay ?? d.epochsDecay}`,
    );
  }
  const preset = o.preset ?? d.preset;
  if (!o.resume && preset !== "book") {
    const size = o.size ?? d.size, depth = o.depth ?? d.depth;
    if (size % 2 ** depth !== 0) {
      throw new UsageError(
        `--size ${size} is not divisible by 2^depth = ${
          2 ** depth
        } (--depth ${depth}); use a multiple of ${
          2 ** depth
        } or a smaller --depth`,
      );
    }
  }
  return o;
}

async function checkData(path: string): Promise<void> {
  try {
    if (!(await Deno.stat(path)).isDirectory) {
      throw new UsageError(`--data ${path} is not a folder`);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--data ${path} does not exist`);
  }
}

function wasmCanTrain(): boolean {
  try {
    return tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined;
  } catch {
    return false;
  }
}

/** Progress output: a bar redrawn in place on a terminal, plain lines otherwise. */
function progressPrinter(terminal: boolean) {
  const enc = new TextEncoder();
  let last = 0;
  let barShown = false;
  const columns = () => {
    try {
      return Deno.consoleSize().columns;
    } catch {
      return 100;
    }
  };
  return {
    step(p: TrainProgress): void {
      const now = performance.now();
      const end = p.epochStep === p.stepsPerEpoch || p.step === p.totalSteps;
      if (terminal) {
        if (now - last < 250 && !end) return;
        last = now;
        const line = formatProgressBar(p, columns() - 1).slice(
          0,
          columns() - 1,
        );
        Deno.stdout.writeSync(enc.encode(`\r\x1b[2K${line}`));
        barShown = true;
      } else {
        if (now - last < 15_000 && !end && p.step !== 1) return;
        last = now;
        console.log(formatProgressLine(p));
      }
    },
    message(line: string): void {
      if (terminal && barShown) {
        Deno.stdout.writeSync(enc.encode("\r\x1b[2K"));
        barShown = false;
      }
      console.log(line);
    },
    done(): void {
      if (terminal && barShown) Deno.stdout.writeSync(enc.encode("\n"));
      barShown = false;
    },
  };
}

async function main(): Promise<void> {
  const args = Deno.args;
  const v = parseFlags(args, USAGE, TRAIN_FLAGS);
  if (!v) return;
  const options = trainOptionsFromFlags(v, args);
  if (options.data !== undefined) await checkData(options.data);

  const choice = await selectBackend(backendOptionsFromFlags(v));
  if (choice.backend === "wasm" && !wasmCanTrain()) {
    throw new Error(
      "the wasm backend has no Conv2DBackpropFilter kernel in this build, so it cannot train; use --backend cpu",
    );
  }

  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts > 1) Deno.exit(130);
    controller.abort();
    console.error(
      "\np2p: stopping after this step and saving checkpoints/latest (Ctrl-C again to quit now)",
    );
  };
  try {
    Deno.addSignalListener("SIGINT", onInterrupt);
  } catch { /* signals unsupported here */ }

  const out = progressPrinter(Deno.stdout.isTerminal());
  try {
    const result = await train({ ...options, signal: controller.signal }, {
      onStart: (s) => {
        const o = s.options;
        out.message(
          `p2p: ${
            s.resumedFrom
              ? `resuming ${s.resumedFrom} at step ${s.step}`
              : "training"
          } on ${
            o.data ?? `embedded ${o.dataset}`
          } (${s.trainPairs} pairs, ${s.heldOutPairs} ${
            s.heldOutIsSeparate ? "held out" : "training pairs for evaluation"
          }), ${o.preset} preset at ${o.size}×${o.size}, depth ${o.depth}, ngf ${o.ngf}, ndf ${o.ndf} (G ${
            (s.generatorParams / 1e6).toFixed(2)
          } M, D ${(s.discriminatorParams / 1e6).toFixed(2)} M parameters)`,
        );
        out.message(
          `p2p: ${o.epochs} + ${o.epochsDecay} epochs × ${s.stepsPerEpoch} steps = ${s.totalSteps} steps, batch ${o.batch}, ${o.ganMode} GAN, λ L1 ${o.lambdaL1}; output in ${o.out}/`,
        );
      },
      onStep: (p) => out.step(p),
      onMessage: (m) => out.message(`p2p: ${m}`),
    });
    out.done();
    if (result.status === "stopped" && controller.signal.aborted) {
      Deno.exitCode = 130;
    }
    console.log(
      `p2p: ${result.status} at step ${result.step}/${result.totalSteps} in ${
        formatDuration(result.seconds)
      }; checkpoint ${result.checkpoint}; samples and plot in ${result.out}/index.html`,
    );
    const e = result.evaluation;
    if (e) {
      const where = e.heldOut
        ? "held-out"
        : "training (the data has no val/ or test/ split)";
      console.log(
        `p2p: ${where} L1 over ${e.pairs} pairs: model ${
          e.modelL1.toFixed(4)
        }, always-the-mean-training-target baseline ${
          e.baselineL1.toFixed(4)
        }; ratio ${e.ratio.toFixed(3)} (${e.ratio <= 0.8 ? "≤" : ">"} 0.8)`,
      );
    }
  } finally {
    out.done();
    try {
      Deno.removeSignalListener("SIGINT", onInterrupt);
    } catch { /* ignore */ }
  }
}

if (import.meta.main) await runMain(main);
