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
import {
  checkOption,
  formatDuration,
  formatProgressBar,
  formatProgressLine,
  networkConfigs,
  type OptionSpec,
  resolveTrainOptions,
  train,
  TRAIN_OPTIONS,
  type TrainOptionName,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  type TrainStart,
} from "@p2p/train";
import {
  BACKEND_FLAGS,
  backendOptionsFromFlags,
  type FlagTable,
  type FlagValues,
  givenFlags,
  parseFlags,
  runMain,
  UsageError,
} from "./args.ts";
import {
  prepareReferenceRun,
  referenceCheckpointWriter,
} from "./reference_run.ts";

const USAGE =
  "usage: deno task train [--data DIR | --dataset NAME] [option ...]  (the reference's train.py flags work too: --dataroot DIR --name NAME --netG unet_256 ...)";

/** A training option's flag: its kebab-case name (`epochsDecay` → `epochs-decay`). */
export function flagName(option: string): string {
  return option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function describe(name: string, spec: OptionSpec): string {
  return spec.reference === flagName(name)
    ? `${spec.help} (the reference's spelling too)`
    : spec.help;
}

/** The reference's flags that concern only CUDA or its viewers: accepted, ignored with one note. */
export const IGNORED_REFERENCE_FLAGS: FlagTable = Object.fromEntries(
  [
    ["gpu_ids", "string"],
    ["display_freq", "string"],
    ["display_ncols", "string"],
    ["display_id", "string"],
    ["display_server", "string"],
    ["display_env", "string"],
    ["display_port", "string"],
    ["display_winsize", "string"],
    ["update_html_freq", "string"],
    ["use_wandb", "boolean"],
    ["wandb_project_name", "string"],
    ["num_threads", "string"],
    ["print_freq", "string"],
    ["no_html", "boolean"],
    ["verbose", "boolean"],
  ].map(([name, type]) => [name, {
    type: type as "string" | "boolean",
    help: "Reference flag for CUDA or its viewers: accepted and ignored.",
    hidden: true,
  }]),
);

/** The reference's flags that only name what p2p always is: each must have this value. */
export const FIXED_REFERENCE_FLAGS: Readonly<Record<string, string>> = {
  model: "pix2pix",
  dataset_mode: "aligned",
  pool_size: "0",
  phase: "train",
};

/** The flags of `deno task train`, derived from the options table. */
export const TRAIN_FLAGS: FlagTable = {
  ...Object.fromEntries(
    (Object.entries(TRAIN_OPTIONS) as [string, OptionSpec][]).map((
      [name, spec],
    ) => [flagName(name), {
      type: spec.kind === "boolean" ? "boolean" : "string",
      help: describe(name, spec),
      default: spec.kind === "boolean"
        ? undefined
        : spec.default === null
        ? undefined
        : String(spec.default),
      shownDefault: spec.default === null ? "none" : String(spec.default),
      choices: spec.choices?.map(String),
      metavar: spec.metavar,
      path: spec.path,
      alias: spec.reference === flagName(name) ? undefined : spec.reference,
    }]),
  ),
  ...BACKEND_FLAGS,
  resume: {
    type: "boolean",
    help:
      "Continue the run in --out from checkpoints/latest at its exact step.",
    alias: "continue_train",
    default: false,
  },
  force: {
    type: "boolean",
    help: "Replace an earlier run in --out (only the files p2p wrote there).",
    default: false,
  },
  epoch: {
    type: "string",
    help:
      "With --continue_train: continue from checkpoints/epoch_<N> instead of latest.",
    default: "latest",
    metavar: "N",
  },
  epoch_count: {
    type: "string",
    help:
      "Reference: the epoch a continued run starts at (p2p resumes at the exact step; 1 or with --continue_train).",
    metavar: "N",
  },
  ...Object.fromEntries(
    Object.entries(FIXED_REFERENCE_FLAGS).map(([name, value]) => [name, {
      type: "string" as const,
      help: `Reference flag; p2p is always ${value}.`,
      choices: [value],
      metavar: "V",
    }]),
  ),
  ...IGNORED_REFERENCE_FLAGS,
};

/**
 * Turns parsed flags into training options, keeping only flags given on the
 * command line (the options table holds the defaults); values are checked
 * against the table, errors name the flag.
 */
export function trainOptionsFromFlags(
  v: FlagValues,
  given: ReadonlySet<string>,
): TrainOptions {
  const o: Record<string, unknown> = {};
  if (given.has("data") && given.has("dataset")) {
    throw new UsageError("give either --data or --dataset, not both");
  }
  for (
    const [name, spec] of Object.entries(TRAIN_OPTIONS) as [
      TrainOptionName,
      OptionSpec,
    ][]
  ) {
    const flag = flagName(name);
    if (!given.has(flag)) continue;
    const raw = v[flag];
    const value = spec.kind === "integer" || spec.kind === "number" ||
        (spec.kind === "choice" && typeof spec.choices![0] === "number")
      ? (typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw)
      : raw;
    try {
      o[name] = checkOption(name, value);
    } catch (e) {
      const message = (e as Error).message.replace(/^\S+/, `--${flag}`)
        .replace(/received .*$/, `received ${JSON.stringify(raw)}`);
      throw new UsageError(message);
    }
  }
  o.resume = v.resume === true;
  if (given.has("epoch") && v.epoch !== "latest") {
    const n = Number(v.epoch);
    if (!Number.isInteger(n) || n < 1) {
      throw new UsageError(
        `--epoch must be latest or an epoch number ≥ 1, received "${v.epoch}"`,
      );
    }
    if (!o.resume) {
      throw new UsageError(`--epoch ${n} needs --continue_train (or --resume)`);
    }
    o.resumeEpoch = n;
  }
  o.force = v.force === true;
  if (given.has("epoch_count") && v.epoch_count !== "1" && !o.resume) {
    throw new UsageError(
      `--epoch_count ${v.epoch_count} needs --continue_train: p2p continues a run at the exact step its checkpoint holds`,
    );
  }
  try {
    const { resume: _r, force: _f, ...options } = o;
    if (!o.resume) networkConfigs(resolveTrainOptions(options));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return o as TrainOptions;
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

/** The two lines printed when a run starts. */
function startLines(s: TrainStart): string[] {
  const o = s.options;
  return [
    `p2p: ${
      s.resumedFrom ? `resuming ${s.resumedFrom} at step ${s.step}` : "training"
    } on ${
      o.data ?? `embedded ${o.dataset}`
    } (${s.trainPairs} pairs, ${s.heldOutPairs} ${
      s.heldOutIsSeparate ? "held out" : "training pairs for evaluation"
    }), ${o.preset} ${o.generator}${
      o.depth ? ` (depth ${o.depth})` : ""
    } at ${o.size}×${o.size}, ngf ${o.ngf}, ndf ${o.ndf} (G ${
      (s.generatorParams / 1e6).toFixed(2)
    } M, D ${(s.discriminatorParams / 1e6).toFixed(2)} M parameters)`,
    `p2p: ${o.epochs} + ${o.epochsDecay} epochs × ${s.stepsPerEpoch} steps = ${s.totalSteps} steps, batch ${o.batch}, ${o.ganMode} GAN, λ L1 ${o.lambdaL1}; output in ${o.out}/`,
  ];
}

/** The lines printed when a run ends. */
function resultLines(result: TrainResult): string[] {
  const lines = [
    `p2p: ${result.status} at step ${result.step}/${result.totalSteps} in ${
      formatDuration(result.seconds)
    }; checkpoint ${result.checkpoint}; samples and plot in ${result.out}/index.html`,
  ];
  const e = result.evaluation;
  if (e) {
    const where = e.heldOut
      ? "held-out"
      : "training (the data has no val/ or test/ split)";
    lines.push(
      `p2p: ${where} L1 over ${e.pairs} pairs: model ${
        e.modelL1.toFixed(4)
      }, always-the-mean-training-target baseline ${
        e.baselineL1.toFixed(4)
      }; ratio ${e.ratio.toFixed(3)} (${e.ratio <= 0.8 ? "≤" : ">"} 0.8)`,
    );
  }
  return lines;
}

/** Ctrl-C stops after the current step; a second quits at once. */
function interruptOnSigint(controller: AbortController): () => void {
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
  return () => {
    try {
      Deno.removeSignalListener("SIGINT", onInterrupt);
    } catch { /* ignore */ }
  };
}

async function main(): Promise<void> {
  const args = Deno.args;
  const v = parseFlags(args, USAGE, TRAIN_FLAGS);
  if (!v) return;
  const given = givenFlags(args, TRAIN_FLAGS);
  const ignored = Object.keys(IGNORED_REFERENCE_FLAGS).filter((f) =>
    given.has(f)
  );
  if (ignored.length > 0) {
    console.log(
      `p2p: ignoring ${
        ignored.map((f) => `--${f}`).join(", ")
      } (CUDA or the reference's viewers; p2p writes index.html and log.jsonl)`,
    );
  }
  const options = trainOptionsFromFlags(v, given);
  if (typeof options.data === "string") await checkData(options.data);

  const choice = await selectBackend(backendOptionsFromFlags(v));
  if (choice.backend === "wasm" && !wasmCanTrain()) {
    throw new Error(
      "the wasm backend has no Conv2DBackpropFilter kernel in this build, so it cannot train; use --backend cpu",
    );
  }
  // A --name run folder shared with the reference: continue its newer
  // latest_net_G/D.pth, and write them beside every p2p checkpoint.
  const prepared = await prepareReferenceRun(
    options,
    given.has("epoch_count") ? Number(v.epoch_count) : 1,
  );
  if (prepared) console.log(`p2p: ${prepared}`);
  const onCheckpoint = referenceCheckpointWriter(options) ?? undefined;
  const controller = new AbortController();
  const stopListening = interruptOnSigint(controller);
  const out = progressPrinter(Deno.stdout.isTerminal());
  try {
    const result = await train({ ...options, signal: controller.signal }, {
      onStart: (s) => startLines(s).forEach((l) => out.message(l)),
      onStep: (p) => out.step(p),
      onMessage: (m) => out.message(`p2p: ${m}`),
      onCheckpoint,
    });
    out.done();
    if (result.status === "stopped" && controller.signal.aborted) {
      Deno.exitCode = 130;
    }
    for (const line of resultLines(result)) console.log(line);
  } finally {
    out.done();
    stopListening();
  }
}

if (import.meta.main) await runMain(main);
