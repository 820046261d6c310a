/**
 * The training loop behind `deno task train`: builds the networks from a
 * preset (or resumes a checkpoint), iterates epochs over a paired data set
 * with jitter and a seeded shuffle, schedules the learning rate, logs the
 * losses, writes sample grids and the run's web page, saves checkpoints, and
 * finally compares the model's held-out L1 with always predicting the mean
 * training target.
 *
 * Run folder (`out`):
 * - `log.jsonl`: one {@linkcode LogRecord} per step;
 * - `samples/epoch_<e>_step_<s>.png`: input | output | target grids of fixed
 *   held-out pairs;
 * - `index.html`: the grids by epoch and an SVG plot of the losses;
 * - `checkpoints/latest`, `checkpoints/epoch_<n>`: checkpoint directories;
 * - `final_eval.json`: the held-out evaluation at the end.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  buildDiscriminator,
  buildGenerator,
  type DiscriminatorConfig,
  type GeneratorConfig,
  preset,
  PRESET_NAMES,
  type PresetName,
} from "@p2p/models";
import { getDropoutState, setDropoutSeed, setDropoutState } from "@p2p/layers";
import {
  createRng,
  DATASET_NAMES,
  type DatasetName,
  defaultLoadSize,
  embeddedDataset,
  type PairedDataset,
  pairedDataset,
  type Rng,
  shuffledIndices,
  writeImage,
} from "@p2p/data";
import { writeFileAtomic } from "@p2p/internal";
import {
  disposeOptimizerState,
  loadCheckpoint,
  restoreOptimizerState,
  saveCheckpoint,
} from "./checkpoint.ts";
import { checkGanMode, type GanMode } from "./losses.ts";
import {
  learningRateAt,
  SCHEDULE_POLICIES,
  type SchedulePolicy,
} from "./schedule.ts";
import type { LayersModel } from "./types.ts";
import {
  createTrainer,
  type StepLosses,
  type Trainer,
  type TrainerOptions,
} from "./step.ts";
import { generatePreserving } from "./inference_state.ts";
import { type LogRecord, renderIndexHtml, type SampleEntry } from "./report.ts";
import type { TrainProgress } from "./progress.ts";

/** Options of {@linkcode train}. Defaults are the no-argument demo run. */
export interface TrainOptions {
  /** Folder of paired images (AB images, or `A/` + `B/`; optional `train/`, `val/`, `test/`); overrides `dataset`. @default undefined */
  data?: string;
  /** Embedded procedural data set trained when `data` is not given. @default "facades" */
  dataset?: DatasetName;
  /** Training pairs generated for an embedded data set. @default 400 */
  count?: number;
  /** Held-out pairs for the final evaluation: generated past the training pairs, or read from `val/` (else `test/`). @default 50 */
  heldOut?: number;
  /** Rows (held-out pairs) in each sample grid. @default 4 */
  sampleRows?: number;
  /** Network preset. @default "reference" */
  preset?: PresetName;
  /** Training image side: pairs are resized to `round(size·286/256)` and randomly cropped to it. @default 64 */
  size?: number;
  /** U-Net depth (the size must be divisible by 2^depth). @default 6 */
  depth?: number;
  /** Generator filters. @default 16 */
  ngf?: number;
  /** Discriminator filters. @default 16 */
  ndf?: number;
  /** Input channels (1 grey, 3 RGB). @default 3 */
  inChannels?: 1 | 3;
  /** Output channels (1 grey, 3 RGB). @default 3 */
  outChannels?: 1 | 3;
  /** `AtoB`: A is the input; `BtoA`: B is. @default "AtoB" */
  direction?: "AtoB" | "BtoA";
  /** Pairs per step. @default 1 */
  batch?: number;
  /** Epochs at the initial learning rate. @default 2 */
  epochs?: number;
  /** Epochs of linear decay to 0 after `epochs`. @default 1 */
  epochsDecay?: number;
  /** Learning-rate policy. @default "linear" */
  policy?: SchedulePolicy;
  /** Adam learning rate. @default 0.0002 */
  lr?: number;
  /** Adam β1. @default 0.5 */
  beta1?: number;
  /** Adam β2. @default 0.999 */
  beta2?: number;
  /** Weight λ of the L1 term. @default 100 */
  lambdaL1?: number;
  /** GAN objective. @default "vanilla" */
  ganMode?: GanMode;
  /** Seed of the weights, the shuffle, the jitter and dropout. @default 0 */
  seed?: number;
  /** Run folder. @default "runs/<dataset>" (or "runs/<data folder name>") */
  out?: string;
  /** Continue the run in `out` from `checkpoints/latest`, at the exact step it stopped. @default false */
  resume?: boolean;
  /** Write a sample grid, the web page and `checkpoints/latest` every this many steps. @default 100 */
  displayEvery?: number;
  /** Keep a checkpoint `epoch_<n>` every this many epochs (and `latest` every epoch). @default 5 */
  saveEvery?: number;
  /** Stop (saving `latest`) once the run has done this many steps in all. @default Infinity */
  maxSteps?: number;
  /** Stop (saving `latest`) after the current step when this signal aborts. @default undefined */
  signal?: AbortSignal;
}

/** {@linkcode TrainOptions} with every default filled in, as stored in checkpoints. */
export interface ResolvedTrainOptions {
  /** Data folder, or `null` for the embedded `dataset`. */
  data: string | null;
  /** Embedded data set. */
  dataset: DatasetName;
  /** Generated training pairs. */
  count: number;
  /** Held-out pairs. */
  heldOut: number;
  /** Rows of each sample grid. */
  sampleRows: number;
  /** Network preset. */
  preset: PresetName;
  /** Training image side. */
  size: number;
  /** U-Net depth. */
  depth: number;
  /** Generator filters. */
  ngf: number;
  /** Discriminator filters. */
  ndf: number;
  /** Input channels. */
  inChannels: 1 | 3;
  /** Output channels. */
  outChannels: 1 | 3;
  /** Direction. */
  direction: "AtoB" | "BtoA";
  /** Pairs per step. */
  batch: number;
  /** Epochs at the initial learning rate. */
  epochs: number;
  /** Epochs of decay. */
  epochsDecay: number;
  /** Learning-rate policy. */
  policy: SchedulePolicy;
  /** Initial learning rate. */
  lr: number;
  /** Adam β1. */
  beta1: number;
  /** Adam β2. */
  beta2: number;
  /** λ of the L1 term. */
  lambdaL1: number;
  /** GAN objective. */
  ganMode: GanMode;
  /** Seed. */
  seed: number;
  /** Steps between sample grids and `latest` checkpoints. */
  displayEvery: number;
  /** Epochs between kept `epoch_<n>` checkpoints. */
  saveEvery: number;
  /** Run folder. */
  out: string;
}

/** The demo defaults of {@linkcode TrainOptions} (what `deno task train` runs with no flags). */
export const TRAIN_DEFAULTS: Readonly<
  Omit<ResolvedTrainOptions, "data" | "out">
> = {
  dataset: "facades",
  count: 400,
  heldOut: 50,
  sampleRows: 4,
  preset: "reference",
  size: 64,
  depth: 6,
  ngf: 16,
  ndf: 16,
  inChannels: 3,
  outChannels: 3,
  direction: "AtoB",
  batch: 1,
  epochs: 2,
  epochsDecay: 1,
  policy: "linear",
  lr: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  lambdaL1: 100,
  ganMode: "vanilla",
  seed: 0,
  displayEvery: 100,
  saveEvery: 5,
};

/** Options that may change when a run is resumed (the rest must match the checkpoint). */
export const RESUMABLE_OVERRIDES: readonly (keyof TrainOptions)[] = [
  "lr",
  "epochs",
  "epochsDecay",
  "displayEvery",
  "saveEvery",
  "heldOut",
  "sampleRows",
];

/** What a run looked like when it started (handed to `TrainHooks.onStart`). */
export interface TrainStart {
  /** The options in force. */
  options: ResolvedTrainOptions;
  /** The checkpoint resumed, or `null` for a fresh run. */
  resumedFrom: string | null;
  /** Steps already done. */
  step: number;
  /** Steps the whole run takes. */
  totalSteps: number;
  /** Batches per epoch. */
  stepsPerEpoch: number;
  /** Training pairs. */
  trainPairs: number;
  /** Held-out pairs. */
  heldOutPairs: number;
  /** Whether the held-out pairs really are held out (a folder without val/ or test/ has none). */
  heldOutIsSeparate: boolean;
  /** Trainable parameters of G. */
  generatorParams: number;
  /** Trainable parameters of D. */
  discriminatorParams: number;
  /** The generator being trained (for custom hooks; do not dispose). */
  generator: LayersModel;
  /** The discriminator being trained (for custom hooks; do not dispose). */
  discriminator: LayersModel;
}

/** The final comparison on held-out pairs. */
export interface HeldOutEvaluation {
  /** Pairs evaluated. */
  pairs: number;
  /** Mean |G(x) − y| in [-1, 1] units (G in paper mode). */
  modelL1: number;
  /** Mean |mean training target − y|. */
  baselineL1: number;
  /** `modelL1 / baselineL1` (the demo's bound: ≤ 0.8). */
  ratio: number;
  /** Whether the pairs were held out (false: training pairs, for lack of val/ or test/). */
  heldOut: boolean;
}

/** What {@linkcode train} returns. */
export interface TrainResult {
  /** Run folder. */
  out: string;
  /** `completed`, or `stopped` by `maxSteps` / the abort signal. */
  status: "completed" | "stopped";
  /** Epoch reached. */
  epoch: number;
  /** Steps done in the run. */
  step: number;
  /** Steps the whole run takes. */
  totalSteps: number;
  /** Seconds this call took. */
  seconds: number;
  /** The `latest` checkpoint directory. */
  checkpoint: string;
  /** Held-out evaluation (only when completed). */
  evaluation: HeldOutEvaluation | null;
}

/** Callbacks of {@linkcode train}; all optional. */
export interface TrainHooks {
  /** After setup, before the first step. */
  onStart?: (start: TrainStart) => void;
  /** After every step. */
  onStep?: (progress: TrainProgress) => void | Promise<void>;
  /** After each epoch. */
  onEpochEnd?: (epoch: number, seconds: number) => void;
  /** Human-readable notes (checkpoints written, resume details). */
  onMessage?: (line: string) => void;
}

/** A NaN or infinite loss stopped training; the last good checkpoint is kept. */
export class NonFiniteLossError extends Error {
  /** The loss at fault (`G_GAN`, `G_L1`, `D_real`, `D_fake`, `D_GP`). */
  readonly loss: string;
  /** Its value. */
  readonly value: number;
  /** The step that produced it (1-based over the run). */
  readonly step: number;
  /** Its epoch. */
  readonly epoch: number;
  /** The last good checkpoint, or `null` if none was written. */
  readonly checkpoint: string | null;

  /** Creates the error. */
  constructor(
    loss: string,
    value: number,
    step: number,
    epoch: number,
    checkpoint: string | null,
    lastGoodStep: number | null,
  ) {
    super(
      `loss ${loss} is ${value} at step ${step} (epoch ${epoch}): training stopped. ${
        checkpoint
          ? `The last good checkpoint, ${checkpoint} (step ${lastGoodStep}), is kept; continue from it with --resume and a lower --lr.`
          : "No checkpoint had been written yet."
      }`,
    );
    this.name = "NonFiniteLossError";
    this.loss = loss;
    this.value = value;
    this.step = step;
    this.epoch = epoch;
    this.checkpoint = checkpoint;
  }
}

function intOption(
  value: unknown,
  name: string,
  min: number,
  allowInfinity = false,
): number {
  if (
    typeof value !== "number" ||
    !(Number.isInteger(value) || (allowInfinity && value === Infinity)) ||
    value < min
  ) {
    throw new RangeError(
      `${name} must be an integer ≥ ${min}, received ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function baseName(path: string): string {
  const parts = path.replace(/\/+$/, "").split("/");
  return parts[parts.length - 1] || "data";
}

/** Fills the demo defaults and validates; errors name the option and value. */
export function resolveTrainOptions(
  options: TrainOptions = {},
): ResolvedTrainOptions {
  const o = { ...TRAIN_DEFAULTS, ...stripUndefined(options) };
  if (!(DATASET_NAMES as readonly string[]).includes(o.dataset)) {
    throw new RangeError(
      `dataset must be one of ${
        DATASET_NAMES.join(", ")
      }, received "${o.dataset}"`,
    );
  }
  if (!(PRESET_NAMES as readonly string[]).includes(o.preset)) {
    throw new RangeError(
      `preset must be one of ${
        PRESET_NAMES.join(", ")
      }, received "${o.preset}"`,
    );
  }
  if (!SCHEDULE_POLICIES.includes(o.policy)) {
    throw new RangeError(
      `policy must be one of ${
        SCHEDULE_POLICIES.join(", ")
      }, received "${o.policy}"`,
    );
  }
  checkGanMode(o.ganMode);
  if (o.direction !== "AtoB" && o.direction !== "BtoA") {
    throw new RangeError(
      `direction must be AtoB or BtoA, received "${o.direction}"`,
    );
  }
  for (const k of ["inChannels", "outChannels"] as const) {
    if (o[k] !== 1 && o[k] !== 3) {
      throw new RangeError(`${k} must be 1 or 3, received ${o[k]}`);
    }
  }
  intOption(o.count, "count", 1);
  intOption(o.heldOut, "heldOut", 1);
  intOption(o.sampleRows, "sampleRows", 1);
  intOption(o.size, "size", 16);
  intOption(o.depth, "depth", 1);
  intOption(o.ngf, "ngf", 1);
  intOption(o.ndf, "ndf", 1);
  intOption(o.batch, "batch", 1);
  intOption(o.epochs, "epochs", 0);
  intOption(o.epochsDecay, "epochsDecay", 0);
  if (o.epochs + o.epochsDecay < 1) {
    throw new RangeError(
      `epochs + epochsDecay must be at least 1, received ${o.epochs} + ${o.epochsDecay}`,
    );
  }
  intOption(o.displayEvery, "displayEvery", 1);
  intOption(o.saveEvery, "saveEvery", 1);
  for (const k of ["lr", "lambdaL1"] as const) {
    if (!Number.isFinite(o[k]) || o[k] < 0) {
      throw new RangeError(`${k} must be a number ≥ 0, received ${o[k]}`);
    }
  }
  if (!Number.isFinite(o.seed)) {
    throw new RangeError(`seed must be a finite number, received ${o.seed}`);
  }
  const data = options.data ?? null;
  const out = options.out ??
    `runs/${data === null ? o.dataset : baseName(data)}`;
  const resolved: ResolvedTrainOptions = {
    dataset: o.dataset,
    count: o.count,
    heldOut: o.heldOut,
    sampleRows: o.sampleRows,
    preset: o.preset,
    size: o.size,
    depth: o.depth,
    ngf: o.ngf,
    ndf: o.ndf,
    inChannels: o.inChannels,
    outChannels: o.outChannels,
    direction: o.direction,
    batch: o.batch,
    epochs: o.epochs,
    epochsDecay: o.epochsDecay,
    policy: o.policy,
    lr: o.lr,
    beta1: o.beta1,
    beta2: o.beta2,
    lambdaL1: o.lambdaL1,
    ganMode: o.ganMode,
    seed: o.seed,
    displayEvery: o.displayEvery,
    saveEvery: o.saveEvery,
    data,
    out,
  };
  return resolved;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

/** Merges a checkpoint's stored options with those given on resume. */
function resumeOptions(
  stored: Record<string, unknown>,
  given: TrainOptions,
  checkpoint: string,
): ResolvedTrainOptions {
  const base = resolveTrainOptions({
    ...(stored as TrainOptions),
    data: (stored.data as string | null) ?? undefined,
  });
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(stripUndefined(given))) {
    if (["resume", "signal", "maxSteps", "out"].includes(k)) continue;
    if ((RESUMABLE_OVERRIDES as readonly string[]).includes(k)) {
      merged[k] = v;
    } else if (
      JSON.stringify(v) !== JSON.stringify(base[k as keyof typeof base])
    ) {
      throw new RangeError(
        `${k} ${
          JSON.stringify(v)
        } differs from the run being resumed (${checkpoint} has ${
          JSON.stringify(base[k as keyof typeof base])
        }); leave it out to resume, or start a new run in another folder`,
      );
    }
  }
  return resolveTrainOptions({
    ...(merged as TrainOptions),
    data: (merged.data as string | null) ?? undefined,
    out: given.out ?? base.out,
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

interface Datasets {
  train: PairedDataset;
  heldOut: PairedDataset;
  heldOutIsSeparate: boolean;
  source: string;
}

async function openData(o: ResolvedTrainOptions): Promise<Datasets> {
  const common = {
    direction: o.direction,
    inChannels: o.inChannels,
    outChannels: o.outChannels,
    cropSize: o.size,
    loadSize: defaultLoadSize(o.size),
  } as const;
  if (o.data === null) {
    const gen = { size: o.size, seed: 0 };
    return {
      train: embeddedDataset(o.dataset, { ...common, ...gen, count: o.count }),
      heldOut: embeddedDataset(o.dataset, {
        ...common,
        ...gen,
        count: o.heldOut,
        start: o.count,
      }),
      heldOutIsSeparate: true,
      source: `embedded:${o.dataset}`,
    };
  }
  const train = await pairedDataset(o.data, { ...common, split: "train" });
  for (const split of ["val", "test"]) {
    if (await exists(`${o.data}/${split}`)) {
      const heldOut = await pairedDataset(o.data, {
        ...common,
        split,
        maxSize: o.heldOut,
      });
      return { train, heldOut, heldOutIsSeparate: true, source: o.data };
    }
  }
  const heldOut = await pairedDataset(o.data, {
    ...common,
    split: "train",
    maxSize: o.heldOut,
  });
  return { train, heldOut, heldOutIsSeparate: false, source: o.data };
}

function countParams(model: LayersModel): number {
  return model.trainableWeights.reduce(
    (s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1),
    0,
  );
}

/** The grey channel repeated to RGB so that grids can mix 1 and 3 channels. */
function toRgb(t: tf.Tensor4D): tf.Tensor4D {
  return t.shape[3] === 3 ? t : tf.tile(t, [1, 1, 1, 3]);
}

/** Writes an `input | output | target` grid of the first `rows` held-out pairs. */
async function writeSampleGrid(
  path: string,
  generator: LayersModel,
  heldOut: PairedDataset,
  rows: number,
): Promise<void> {
  const n = Math.min(rows, heldOut.size);
  const lines: tf.Tensor4D[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const b = await heldOut.batch([i]);
      const fake = generatePreserving(generator, b.a, "paper");
      lines.push(
        tf.tidy(() =>
          tf.concat([toRgb(b.a), toRgb(fake), toRgb(b.b)], 2) as tf.Tensor4D
        ),
      );
      tf.dispose([b.a, b.b, fake]);
    }
    const grid = tf.tidy(() => tf.concat(lines, 1) as tf.Tensor4D);
    try {
      await writeImage(path, grid);
    } finally {
      grid.dispose();
    }
  } finally {
    tf.dispose(lines);
  }
}

/**
 * Compares the generator (paper mode, one pair at a time) with always
 * predicting the mean training target (pixel-wise, over the training pairs
 * at test-time preprocessing), by mean L1 over `heldOut`.
 */
async function evaluateHeldOut(
  generator: LayersModel,
  train: PairedDataset,
  heldOut: PairedDataset,
  isHeldOut = true,
): Promise<HeldOutEvaluation> {
  const first = train.pixels(0).b;
  const sum = new Float64Array(first.data.length);
  for (let i = 0; i < train.size; i++) {
    const b = train.pixels(i).b;
    if (b.data.length !== sum.length) {
      throw new Error(
        `evaluateHeldOut: training targets differ in size ('${
          train.names[0]
        }' vs '${train.names[i]}'); the mean target needs one size`,
      );
    }
    for (let k = 0; k < sum.length; k++) sum[k] += b.data[k];
  }
  const mean = new Float32Array(sum.length);
  for (let k = 0; k < sum.length; k++) {
    mean[k] = sum[k] / train.size / 127.5 - 1;
  }
  let modelSum = 0, baseSum = 0, count = 0;
  for (let i = 0; i < heldOut.size; i++) {
    const b = await heldOut.batch([i]);
    const fake = generatePreserving(generator, b.a, "paper");
    const [f, y] = await Promise.all([fake.data(), b.b.data()]);
    tf.dispose([b.a, b.b, fake]);
    if (y.length !== mean.length) {
      throw new Error(
        `evaluateHeldOut: held-out pair '${
          heldOut.names[i]
        }' has ${y.length} target values, the training targets ${mean.length}`,
      );
    }
    for (let k = 0; k < y.length; k++) {
      modelSum += Math.abs(f[k] - y[k]);
      baseSum += Math.abs(mean[k] - y[k]);
    }
    count += y.length;
  }
  const modelL1 = modelSum / count, baselineL1 = baseSum / count;
  return {
    pairs: heldOut.size,
    modelL1,
    baselineL1,
    ratio: modelL1 / baselineL1,
    heldOut: isHeldOut,
  };
}

async function readLog(path: string, upToStep: number): Promise<LogRecord[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const out: LogRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line) as LogRecord;
      if (r.step <= upToStep) out.push(r);
    } catch {
      // A line cut short by a crash: dropped.
    }
  }
  return out;
}

async function listSamples(dir: string): Promise<SampleEntry[]> {
  const out: SampleEntry[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/samples`)) {
      const m = /^epoch_(\d+)_step_(\d+)\.png$/.exec(e.name);
      if (m) {
        out.push({
          path: `samples/${e.name}`,
          epoch: Number(m[1]),
          step: Number(m[2]),
        });
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a.step - b.step);
}

const LOSS_KEYS: (keyof StepLosses)[] = [
  "G_GAN",
  "G_L1",
  "D_real",
  "D_fake",
  "D_GP",
];

/**
 * Trains pix2pix. With no options it trains the embedded `facades` set at the
 * demo size ({@linkcode TRAIN_DEFAULTS}). The backend must be selected first
 * (`selectBackend` from `@p2p/backend`).
 *
 * Determinism: the weights come from `seed`, the data order and jitter from
 * a seeded RNG shuffled every epoch, and dropout from a seeded counter; all
 * three states go into every checkpoint, so `resume: true` after a stop at
 * step k ends with the same weights as an uninterrupted run.
 *
 * @example
 * ```ts ignore
 * import { selectBackend } from "@p2p/backend";
 * import { train } from "@p2p/train";
 * await selectBackend();
 * const result = await train({ dataset: "edges2shapes", out: "runs/shapes" });
 * console.log(result.evaluation);
 * ```
 */
export async function train(
  options: TrainOptions = {},
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const t0 = performance.now();
  const say = (line: string) => hooks.onMessage?.(line);
  const outGiven = options.out ??
    resolveTrainOptions({ ...options, resume: false }).out;
  const latestDir = `${outGiven}/checkpoints/latest`;
  const maxSteps = intOption(
    options.maxSteps ?? Infinity,
    "maxSteps",
    1,
    true,
  );

  // ---- options, networks, optimizer state
  let o: ResolvedTrainOptions;
  let generator: LayersModel;
  let discriminator: LayersModel;
  let gConfig: GeneratorConfig;
  let dConfig: DiscriminatorConfig;
  let trainer: Trainer;
  let epoch = 1;
  let step = 0;
  let progress: { batchesDone: number; order: number[] } | null = null;
  let rng: Rng;
  let resumedFrom: string | null = null;
  let lastSaved: { dir: string; step: number } | null = null;

  if (options.resume) {
    const ckpt = await loadCheckpoint(latestDir).catch((e) => {
      throw new Error(
        `--resume: cannot read ${latestDir}: ${(e as Error).message}`,
      );
    });
    if (!ckpt.discriminator) {
      throw new Error(
        `--resume: ${ckpt.dir} holds no discriminator, so training cannot continue from it`,
      );
    }
    o = resumeOptions(
      ckpt.config.train,
      { ...options, out: outGiven },
      ckpt.dir,
    );
    generator = ckpt.generator;
    discriminator = ckpt.discriminator;
    gConfig = ckpt.config.generator;
    dConfig = ckpt.config.discriminator!;
    trainer = createTrainer(generator, discriminator, trainerOptions(o));
    if (ckpt.optimizer) {
      await restoreOptimizerState(trainer, ckpt.optimizer);
      disposeOptimizerState(ckpt.optimizer);
    }
    step = ckpt.config.step;
    progress = ckpt.config.progress;
    epoch = progress ? ckpt.config.epoch : ckpt.config.epoch + 1;
    rng = ckpt.config.rng ? createRng(ckpt.config.rng) : createRng(o.seed);
    if (ckpt.config.dropout) setDropoutState(ckpt.config.dropout);
    else setDropoutSeed(o.seed);
    resumedFrom = ckpt.dir;
    lastSaved = { dir: ckpt.dir, step };
    say(
      `resuming ${ckpt.dir}: epoch ${ckpt.config.epoch}, step ${step}${
        progress ? ` (${progress.batchesDone} batches into the epoch)` : ""
      }`,
    );
  } else {
    o = resolveTrainOptions({ ...options, out: outGiven });
    const p = preset(o.preset, {
      size: o.size,
      depth: o.depth,
      ngf: o.ngf,
      ndf: o.ndf,
      inChannels: o.inChannels,
      outChannels: o.outChannels,
      seed: o.seed,
    });
    gConfig = p.generator;
    dConfig = p.discriminator;
    generator = buildGenerator(gConfig);
    discriminator = buildDiscriminator(dConfig);
    trainer = createTrainer(generator, discriminator, trainerOptions(o));
    rng = createRng(o.seed);
    setDropoutSeed(o.seed);
    if (await exists(latestDir)) {
      say(
        `${o.out} holds an earlier run; starting over (use --resume to continue it)`,
      );
    }
    for (const p of ["log.jsonl", "samples", "index.html", "final_eval.json"]) {
      await Deno.remove(`${o.out}/${p}`, { recursive: true }).catch(() => {});
    }
  }
  await Deno.mkdir(`${o.out}/samples`, { recursive: true });

  const data = await openData(o);
  const stepsPerEpoch = Math.ceil(data.train.size / o.batch);
  const totalEpochs = o.epochs + o.epochsDecay;
  const totalSteps = totalEpochs * stepsPerEpoch;
  if (progress && progress.order.length !== data.train.size) {
    throw new Error(
      `--resume: the checkpoint's epoch visits ${progress.order.length} pairs but the data now has ${data.train.size}; the data changed since the run started`,
    );
  }

  const logPath = `${o.out}/log.jsonl`;
  const log = await readLog(logPath, step);
  if (options.resume) {
    await writeFileAtomic(
      logPath,
      new TextEncoder().encode(
        log.map((r) => JSON.stringify(r) + "\n").join(""),
      ),
    );
  }
  const timeOffset = log.length > 0 ? log[log.length - 1].time : 0;
  const checkpointData = {
    direction: o.direction,
    inChannels: o.inChannels,
    outChannels: o.outChannels,
    size: o.size,
    source: data.source,
  };
  const storedOptions = { ...o } as Record<string, unknown>;
  delete storedOptions.out;

  hooks.onStart?.({
    options: o,
    resumedFrom,
    step,
    totalSteps,
    stepsPerEpoch,
    trainPairs: data.train.size,
    heldOutPairs: data.heldOut.size,
    heldOutIsSeparate: data.heldOutIsSeparate,
    generatorParams: countParams(generator),
    discriminatorParams: countParams(discriminator),
    generator,
    discriminator,
  });

  const save = async (
    dir: string,
    e: number,
    p: { batchesDone: number; order: number[] } | null,
  ) => {
    await saveCheckpoint(dir, {
      generator,
      generatorConfig: gConfig,
      discriminator,
      discriminatorConfig: dConfig,
      trainer,
      train: storedOptions,
      data: checkpointData,
      epoch: e,
      step,
      progress: p,
      rng: rng.state(),
      dropout: getDropoutState(),
    });
  };

  let samples = await listSamples(o.out);
  let evaluationLine: string | undefined;
  const writePage = async () => {
    const html = renderIndexHtml({
      title: `p2p training: ${data.source}`,
      facts: {
        data: data.source,
        preset: o.preset,
        "size / depth / ngf / ndf":
          `${o.size} / ${o.depth} / ${o.ngf} / ${o.ndf}`,
        "gan mode": o.ganMode,
        "λ L1": o.lambdaL1,
        batch: o.batch,
        epochs: `${o.epochs} + ${o.epochsDecay} decay`,
        step: `${step} / ${totalSteps}`,
        updated: new Date().toISOString(),
      },
      log,
      samples,
      evaluation: evaluationLine,
    });
    await writeFileAtomic(
      `${o.out}/index.html`,
      new TextEncoder().encode(html),
    );
  };
  const writeSample = async (e: number) => {
    const rel = `samples/epoch_${e}_step_${step}.png`;
    await writeSampleGrid(
      `${o.out}/${rel}`,
      generator,
      data.heldOut,
      o.sampleRows,
    );
    samples = [...samples.filter((s) => s.path !== rel), {
      path: rel,
      epoch: e,
      step,
    }];
    await writePage();
  };

  // ---- the loop
  const sessionStart = performance.now();
  let sessionSteps = 0;
  let status: "completed" | "stopped" = "completed";
  const stopRequested = () =>
    options.signal?.aborted === true || step >= maxSteps;
  let lastSampleStep = -1;

  outer:
  for (; epoch <= totalEpochs; epoch++) {
    const epochStart = performance.now();
    const lr = learningRateAt(epoch, {
      policy: o.policy,
      lr: o.lr,
      epochs: o.epochs,
      epochsDecay: o.epochsDecay,
    });
    trainer.setLearningRate(lr);
    const order = progress
      ? progress.order
      : shuffledIndices(data.train.size, rng);
    let done = progress ? progress.batchesDone : 0;
    progress = null;
    if (done === 0) {
      say(
        `epoch ${epoch}/${totalEpochs}: learning rate ${lr.toExponential(3)}`,
      );
    }
    while (done < stepsPerEpoch) {
      if (stopRequested()) {
        await save(latestDir, epoch, { batchesDone: done, order });
        lastSaved = { dir: latestDir, step };
        status = "stopped";
        break outer;
      }
      const idx = order.slice(done * o.batch, (done + 1) * o.batch);
      const batch = await data.train.batch(idx, { jitter: true, rng });
      let losses: StepLosses;
      try {
        losses = await trainer.step(batch.a, batch.b);
      } finally {
        tf.dispose([batch.a, batch.b]);
      }
      done++;
      step++;
      sessionSteps++;
      for (const k of LOSS_KEYS) {
        if (!Number.isFinite(losses[k])) {
          throw new NonFiniteLossError(
            k,
            losses[k],
            step,
            epoch,
            lastSaved?.dir ?? null,
            lastSaved?.step ?? null,
          );
        }
      }
      const elapsed = (performance.now() - sessionStart) / 1000;
      const record: LogRecord = {
        epoch,
        step,
        lr,
        time: Number((timeOffset + elapsed).toFixed(3)),
        ...losses,
      };
      log.push(record);
      await Deno.writeTextFile(logPath, JSON.stringify(record) + "\n", {
        append: true,
      });
      const itPerSec = sessionSteps / Math.max(elapsed, 1e-9);
      await hooks.onStep?.({
        epoch,
        epochs: totalEpochs,
        step,
        totalSteps,
        epochStep: done,
        stepsPerEpoch,
        losses,
        lr,
        itPerSec,
        etaSec: (totalSteps - step) / Math.max(itPerSec, 1e-9),
      });
      if (step % o.displayEvery === 0 && done < stepsPerEpoch) {
        await writeSample(epoch);
        lastSampleStep = step;
        await save(latestDir, epoch, { batchesDone: done, order });
        lastSaved = { dir: latestDir, step };
      }
    }
    // ---- end of epoch
    if (step % o.displayEvery === 0) {
      await writeSample(epoch);
      lastSampleStep = step;
    }
    await save(latestDir, epoch, null);
    lastSaved = { dir: latestDir, step };
    if (epoch % o.saveEvery === 0 || epoch === totalEpochs) {
      const dir = `${o.out}/checkpoints/epoch_${epoch}`;
      await save(dir, epoch, null);
      say(`saved ${dir}`);
    }
    hooks.onEpochEnd?.(epoch, (performance.now() - epochStart) / 1000);
    if (stopRequested() && epoch < totalEpochs) {
      status = "stopped";
      epoch++;
      break;
    }
  }
  const lastEpoch = Math.min(epoch, totalEpochs);
  if (lastSampleStep !== step) {
    await writeSample(status === "completed" ? lastEpoch : epoch);
  }

  let evaluation: HeldOutEvaluation | null = null;
  if (status === "completed") {
    evaluation = await evaluateHeldOut(
      generator,
      data.train,
      data.heldOut,
      data.heldOutIsSeparate,
    );
    evaluationLine = `${
      evaluation.heldOut ? "held-out" : "training (no val/ or test/ split)"
    } L1 over ${evaluation.pairs} pairs: model ${
      evaluation.modelL1.toFixed(4)
    }, mean-target baseline ${evaluation.baselineL1.toFixed(4)}, ratio ${
      evaluation.ratio.toFixed(3)
    }`;
    await writeFileAtomic(
      `${o.out}/final_eval.json`,
      new TextEncoder().encode(
        JSON.stringify({ ...evaluation, step }, null, 1) + "\n",
      ),
    );
    await writePage();
  } else {
    say(
      `stopped at step ${step}; ${latestDir} holds it (continue with --resume)`,
    );
  }
  trainer.dispose();
  generator.dispose();
  discriminator.dispose();
  return {
    out: o.out,
    status,
    epoch: status === "completed" ? totalEpochs : epoch,
    step,
    totalSteps,
    seconds: (performance.now() - t0) / 1000,
    checkpoint: latestDir,
    evaluation,
  };
}

function trainerOptions(o: ResolvedTrainOptions): TrainerOptions {
  return {
    lr: o.lr,
    beta1: o.beta1,
    beta2: o.beta2,
    lambdaL1: o.lambdaL1,
    ganMode: o.ganMode,
    seed: o.seed,
  };
}
