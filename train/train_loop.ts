/**
 * The training loop behind `deno task train`, top to bottom: {@linkcode train}
 * sets a run up (options, networks, data, run folder; or a checkpoint to
 * resume), runs its epochs, and finishes with the held-out evaluation. Each
 * step is one call of the trainer ({@linkcode createTrainer}), after which
 * the loss is logged, and every `displayEvery` steps a sample grid, the web
 * page and `checkpoints/latest` are written.
 *
 * Run folder: see `run_folder.ts`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  buildDiscriminator,
  buildGenerator,
  type DiscriminatorConfig,
  type GeneratorConfig,
  initializeWeights,
  type LayersModel,
} from "@p2p/models";
import { createRng, type Rng, shuffledIndices } from "@p2p/data";
import { exists, integerIn, writeTextFileAtomic } from "@p2p/internal";
import {
  disposeOptimizerState,
  type EpochPosition,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import {
  type ResolvedTrainOptions,
  resolveTrainOptions,
  resumeOptions,
} from "./options.ts";
import { networkConfigs } from "./networks.ts";
import { learningRateAt } from "./schedule.ts";
import {
  createTrainer,
  LOSS_NAMES,
  type StepLosses,
  type Trainer,
} from "./step.ts";
import {
  evaluateHeldOut,
  type HeldOutEvaluation,
  writeSampleGrid,
} from "./evaluation.ts";
import { openRunData, type RunData } from "./run_data.ts";
import {
  claimRunFolder,
  cleanInterrupted,
  listSamples,
  readLog,
} from "./run_folder.ts";
import { type LogRecord, renderIndexHtml, type SampleEntry } from "./report.ts";
import type { TrainProgress } from "./progress.ts";

/**
 * Options of {@linkcode train}: any of the training options
 * (`TRAIN_OPTIONS`; defaults there), and how this call runs.
 */
export type TrainOptions = Partial<ResolvedTrainOptions> & {
  /** Continue the run in `out` from `checkpoints/latest`, at the exact step it stopped. @default false */
  resume?: boolean;
  /** With `resume`: the checkpoint to continue from, `latest` or an epoch whose `epoch_<n>` was kept (the reference's `--epoch`). @default "latest" */
  resumeEpoch?: "latest" | number;
  /** Replace an earlier run in `out` (only the files p2p wrote, once the new run has started). @default false */
  force?: boolean;
  /** Stop (saving `latest`) once the run has done this many steps in all. @default Infinity */
  maxSteps?: number;
  /** Stop (saving `latest`) after the current step when this signal aborts. @default undefined */
  signal?: AbortSignal;
};

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
  /**
   * After each checkpoint is written (`latest` and `epoch_<n>`): the hook
   * where the reference's `latest_net_G.pth` / `<n>_net_G.pth` are written
   * beside it for `--name` runs (interop's reference checkpoint functions).
   */
  onCheckpoint?: (saved: SavedCheckpoint) => void | Promise<void>;
}

/** A checkpoint just written (handed to `TrainHooks.onCheckpoint`). */
export interface SavedCheckpoint {
  /** Its directory. */
  dir: string;
  /** `latest`, or the epoch of an `epoch_<n>` checkpoint. */
  label: "latest" | number;
  /** Steps done. */
  step: number;
  /** The generator (do not dispose). */
  generator: LayersModel;
  /** The discriminator (do not dispose). */
  discriminator: LayersModel;
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

/** A run in progress: what the named steps of {@linkcode train} share. */
interface Run {
  o: ResolvedTrainOptions;
  hooks: TrainHooks;
  data: RunData;
  trainer: Trainer;
  configs: { generator: GeneratorConfig; discriminator: DiscriminatorConfig };
  rng: Rng;
  /** The epoch in progress (1-based). */
  epoch: number;
  step: number;
  /** Where a resumed run stands inside `epoch`. */
  position: EpochPosition | null;
  totalEpochs: number;
  stepsPerEpoch: number;
  maxSteps: number;
  signal: AbortSignal | undefined;
  latestDir: string;
  lastSaved: { dir: string; step: number } | null;
  lastSampleStep: number;
  log: LogRecord[];
  timeOffset: number;
  samples: SampleEntry[];
  evaluationLine: string | undefined;
  sessionStart: number;
  sessionSteps: number;
  t0: number;
}

function say(run: Run, line: string): void {
  run.hooks.onMessage?.(line);
}

function totalSteps(run: Run): number {
  return run.totalEpochs * run.stepsPerEpoch;
}

/** Networks and trainer of a fresh run, or of the checkpoint a resumed run continues. */
async function networksAndState(options: TrainOptions, resumeDir: string) {
  if (!options.resume) {
    const o = resolveTrainOptions(runSettings(options));
    const configs = networkConfigs(o);
    const generator = buildGenerator(configs.generator);
    const discriminator = buildDiscriminator(configs.discriminator);
    if (o.initType !== "normal" || o.initGain !== 0.02) {
      // The builders draw normal(0.02), the reference's default, already.
      const init = { type: o.initType, gain: o.initGain };
      initializeWeights(generator, { ...init, seed: o.seed });
      initializeWeights(discriminator, { ...init, seed: o.seed + 1 });
    }
    const trainer = createTrainer(generator, discriminator, trainerOptions(o));
    return { o, configs, trainer, rng: createRng(o.seed), ckpt: null };
  }
  const ckpt = await loadCheckpoint(resumeDir).catch(async (e) => {
    // Where a run of the reference (`DIR/NAME/latest_net_G.pth`) is to be continued.
    const reference = `${options.out}/latest_net_G.pth`;
    const hint = await exists(reference)
      ? `; ${reference} is the reference's: \`deno task train --continue_train\` converts it first (prepareReferenceRun in @p2p/cli), or import it with \`deno task import\``
      : "";
    throw new Error(
      `--resume: cannot read ${resumeDir}: ${(e as Error).message}${hint}`,
    );
  });
  if (!ckpt.discriminator) {
    throw new Error(
      `--resume: ${ckpt.dir} holds no discriminator, so training cannot continue from it`,
    );
  }
  const o = resumeOptions(
    ckpt.config.train,
    runSettings(options),
    ckpt.dir,
  );
  const trainer = createTrainer(ckpt.generator, ckpt.discriminator, {
    ...trainerOptions(o),
    dropout: ckpt.config.dropout ?? undefined,
  });
  try {
    if (ckpt.optimizer) await trainer.importOptimizerState(ckpt.optimizer);
  } finally {
    disposeOptimizerState(ckpt.optimizer);
  }
  const configs = {
    generator: ckpt.config.generator,
    discriminator: ckpt.config.discriminator!,
  };
  const rng = createRng(ckpt.config.rng ?? o.seed);
  return { o, configs, trainer, rng, ckpt };
}

/**
 * Everything before the first step: options and networks checked, data
 * opened, and only then the run folder claimed, cleaned of what a killed
 * run left, and (with `force`) the earlier run replaced.
 */
async function setUp(options: TrainOptions, hooks: TrainHooks): Promise<Run> {
  const t0 = performance.now();
  const maxSteps =
    options.maxSteps === undefined || options.maxSteps === Infinity
      ? Infinity
      : integerIn("maxSteps", options.maxSteps, 1);
  const out = resolveTrainOptions({
    ...runSettings(options),
    recipe: undefined,
  }).out!;
  const latestDir = `${out}/checkpoints/latest`;
  const from = options.resumeEpoch ?? "latest";
  const { o, configs, trainer, rng, ckpt } = await networksAndState(
    { ...options, out },
    from === "latest"
      ? latestDir
      : `${out}/checkpoints/epoch_${integerIn("resumeEpoch", from, 1)}`,
  );
  const data = await openRunData(o);
  const position = ckpt?.config.progress ?? null;
  if (position && position.order.length !== data.train.size) {
    throw new Error(
      `--resume: the checkpoint's epoch visits ${position.order.length} pairs but the data now has ${data.train.size}; the data changed since the run started`,
    );
  }
  const replaceEarlier = await claimRunFolder(o.out!, {
    resume: options.resume === true,
    force: options.force === true,
  });
  for (const p of await cleanInterrupted(o.out!)) {
    say0(hooks, `removed ${p}, left by an interrupted run`);
  }
  await replaceEarlier?.();
  await Deno.mkdir(`${o.out}/samples`, { recursive: true });
  const step = ckpt?.config.step ?? 0;
  const log = await readLog(`${o.out}/log.jsonl`, step);
  if (options.resume) {
    await writeTextFileAtomic(
      `${o.out}/log.jsonl`,
      log.map((r) => JSON.stringify(r) + "\n").join(""),
    );
  }
  const run: Run = {
    o,
    hooks,
    data,
    trainer,
    configs,
    rng,
    step,
    position,
    maxSteps,
    t0,
    epoch: ckpt ? (position ? ckpt.config.epoch : ckpt.config.epoch + 1) : 1,
    totalEpochs: o.epochs + o.epochsDecay,
    stepsPerEpoch: Math.ceil(data.train.size / o.batch),
    signal: options.signal,
    latestDir,
    lastSaved: ckpt ? { dir: ckpt.dir, step } : null,
    lastSampleStep: -1,
    log,
    timeOffset: log.length > 0 ? log[log.length - 1].time : 0,
    samples: await listSamples(o.out!),
    evaluationLine: undefined,
    sessionStart: performance.now(),
    sessionSteps: 0,
  };
  if (ckpt) {
    say(
      run,
      `resuming ${ckpt.dir}: epoch ${ckpt.config.epoch}, step ${step}${
        position ? ` (${position.batchesDone} batches into the epoch)` : ""
      }`,
    );
    await saveMissedEpoch(run, ckpt.config.epoch, position);
  }
  hooks.onStart?.(startOf(run, ckpt?.dir ?? null));
  return run;
}

function say0(hooks: TrainHooks, line: string): void {
  hooks.onMessage?.(line);
}

function startOf(run: Run, resumedFrom: string | null): TrainStart {
  const count = (m: LayersModel) =>
    m.trainableWeights.reduce(
      (s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1),
      0,
    );
  return {
    options: run.o,
    resumedFrom,
    step: run.step,
    totalSteps: totalSteps(run),
    stepsPerEpoch: run.stepsPerEpoch,
    trainPairs: run.data.train.size,
    heldOutPairs: run.data.heldOut.size,
    heldOutIsSeparate: run.data.heldOutIsSeparate,
    generatorParams: count(run.trainer.generator),
    discriminatorParams: count(run.trainer.discriminator),
    generator: run.trainer.generator,
    discriminator: run.trainer.discriminator,
  };
}

/** A kill during the save of `epoch_N` (after `latest`) left it unwritten: write it now. */
async function saveMissedEpoch(
  run: Run,
  epoch: number,
  position: EpochPosition | null,
): Promise<void> {
  if (position !== null || epoch < 1) return;
  if (epoch % run.o.saveEvery !== 0 && epoch !== run.totalEpochs) return;
  const dir = `${run.o.out}/checkpoints/epoch_${epoch}`;
  if (await exists(dir)) return;
  await save(run, dir, null, epoch);
  say(run, `saved ${dir} (its save had been interrupted)`);
}

async function save(
  run: Run,
  dir: string,
  position: EpochPosition | null,
  epoch = run.epoch,
): Promise<void> {
  const stored: Record<string, unknown> = { ...run.o };
  delete stored.out;
  await saveCheckpoint(dir, {
    generator: run.trainer.generator,
    generatorConfig: run.configs.generator,
    discriminator: run.trainer.discriminator,
    discriminatorConfig: run.configs.discriminator,
    trainer: run.trainer,
    train: stored,
    data: {
      direction: run.o.direction,
      inChannels: run.o.inChannels,
      outChannels: run.o.outChannels,
      size: run.o.size,
      source: run.data.source,
    },
    epoch,
    step: run.step,
    progress: position,
    rng: run.rng.state(),
    dropout: run.trainer.dropout.state(),
  });
  if (dir === run.latestDir) run.lastSaved = { dir, step: run.step };
  await run.hooks.onCheckpoint?.({
    dir,
    label: dir === run.latestDir ? "latest" : epoch,
    step: run.step,
    generator: run.trainer.generator,
    discriminator: run.trainer.discriminator,
  });
}

function stopRequested(run: Run): boolean {
  return run.signal?.aborted === true || run.step >= run.maxSteps;
}

/**
 * One epoch (or the rest of one a resumed run stopped in): the learning
 * rate of the epoch, its order of pairs, a step per batch, and at its end
 * `latest` and every `saveEvery` epochs `epoch_<n>`. Returns `stopped` when
 * a stop was requested (the position is saved in `latest`).
 */
async function runEpoch(run: Run): Promise<"done" | "stopped"> {
  const { o } = run;
  const epochStart = performance.now();
  const lr = learningRateAt(run.epoch, {
    policy: o.policy,
    lr: o.lr,
    epochs: o.epochs,
    epochsDecay: o.epochsDecay,
    stepSize: o.lrDecayIters,
  });
  run.trainer.setLearningRate(lr);
  const order = run.position?.order ?? epochOrder(run);
  let done = run.position?.batchesDone ?? 0;
  run.position = null;
  if (done === 0) {
    say(
      run,
      `epoch ${run.epoch}/${run.totalEpochs}: learning rate ${
        lr.toExponential(3)
      }`,
    );
  }
  while (done < run.stepsPerEpoch) {
    if (stopRequested(run)) {
      await save(run, run.latestDir, { batchesDone: done, order });
      return "stopped";
    }
    const idx = order.slice(done * o.batch, (done + 1) * o.batch);
    const batch = await run.data.train.batch(idx, {
      jitter: true,
      rng: run.rng,
    });
    let losses: StepLosses;
    try {
      losses = await run.trainer.step(batch.input, batch.target);
    } finally {
      tf.dispose([batch.input, batch.target]);
    }
    done++;
    await afterStep(run, losses, lr, done);
    if (run.step % o.displayEvery === 0 && done < run.stepsPerEpoch) {
      await writeSample(run);
      await save(run, run.latestDir, { batchesDone: done, order });
    }
  }
  if (run.step % o.displayEvery === 0) await writeSample(run);
  await save(run, run.latestDir, null);
  if (run.epoch % o.saveEvery === 0 || run.epoch === run.totalEpochs) {
    const dir = `${o.out}/checkpoints/epoch_${run.epoch}`;
    await save(run, dir, null);
    say(run, `saved ${dir}`);
  }
  run.hooks.onEpochEnd?.(run.epoch, (performance.now() - epochStart) / 1000);
  if (stopRequested(run) && run.epoch < run.totalEpochs) {
    run.epoch++;
    return "stopped";
  }
  return "done";
}

function epochOrder(run: Run): number[] {
  const n = run.data.train.size;
  return run.o.serialBatches
    ? Array.from({ length: n }, (_, i) => i)
    : shuffledIndices(n, run.rng);
}

/** After a step: the losses checked, logged and reported. */
async function afterStep(
  run: Run,
  losses: StepLosses,
  lr: number,
  epochStep: number,
): Promise<void> {
  run.step++;
  run.sessionSteps++;
  for (const k of LOSS_NAMES) {
    if (!Number.isFinite(losses[k])) {
      throw new NonFiniteLossError(
        k,
        losses[k],
        run.step,
        run.epoch,
        run.lastSaved?.dir ?? null,
        run.lastSaved?.step ?? null,
      );
    }
  }
  const elapsed = (performance.now() - run.sessionStart) / 1000;
  const record: LogRecord = {
    epoch: run.epoch,
    step: run.step,
    lr,
    time: Number((run.timeOffset + elapsed).toFixed(3)),
    ...losses,
  };
  run.log.push(record);
  await Deno.writeTextFile(
    `${run.o.out}/log.jsonl`,
    JSON.stringify(record) + "\n",
    {
      append: true,
    },
  );
  const itPerSec = run.sessionSteps / Math.max(elapsed, 1e-9);
  await run.hooks.onStep?.({
    epoch: run.epoch,
    epochs: run.totalEpochs,
    step: run.step,
    totalSteps: totalSteps(run),
    epochStep,
    stepsPerEpoch: run.stepsPerEpoch,
    losses,
    lr,
    itPerSec,
    etaSec: (totalSteps(run) - run.step) / Math.max(itPerSec, 1e-9),
  });
}

async function writePage(run: Run): Promise<void> {
  const { o } = run;
  const html = renderIndexHtml({
    title: `p2p training: ${run.data.source}`,
    facts: {
      data: run.data.source,
      preset: o.preset,
      "size / generator / ngf / ndf": `${o.size} / ${o.generator}${
        o.depth ? ` depth ${o.depth}` : ""
      } / ${o.ngf} / ${o.ndf}`,
      "gan mode": o.ganMode,
      "λ L1": o.lambdaL1,
      batch: o.batch,
      epochs: `${o.epochs} + ${o.epochsDecay} decay`,
      step: `${run.step} / ${totalSteps(run)}`,
      updated: new Date().toISOString(),
    },
    log: run.log,
    samples: run.samples,
    evaluation: run.evaluationLine,
  });
  await writeTextFileAtomic(`${o.out}/index.html`, html);
}

async function writeSample(run: Run, epoch = run.epoch): Promise<void> {
  const rel = `samples/epoch_${epoch}_step_${run.step}.png`;
  await writeSampleGrid(
    `${run.o.out}/${rel}`,
    run.trainer.generator,
    run.data.heldOut,
    run.o.sampleRows,
  );
  run.samples = [...run.samples.filter((s) => s.path !== rel), {
    path: rel,
    epoch,
    step: run.step,
  }];
  run.lastSampleStep = run.step;
  await writePage(run);
}

/** After the last epoch or a stop: the last sample, the evaluation, the result. */
async function finish(
  run: Run,
  status: "completed" | "stopped",
): Promise<TrainResult> {
  const lastEpoch = Math.min(run.epoch, run.totalEpochs);
  if (run.lastSampleStep !== run.step) {
    await writeSample(run, status === "completed" ? lastEpoch : run.epoch);
  }
  let evaluation: HeldOutEvaluation | null = null;
  if (status === "completed") {
    const { train, heldOut, heldOutIsSeparate } = run.data;
    evaluation = await evaluateHeldOut(
      run.trainer.generator,
      train,
      heldOut,
      heldOutIsSeparate,
    );
    run.evaluationLine = `${
      evaluation.heldOut ? "held-out" : "training (no val/ or test/ split)"
    } L1 over ${evaluation.pairs} pairs: model ${
      evaluation.modelL1.toFixed(4)
    }, mean-target baseline ${evaluation.baselineL1.toFixed(4)}, ratio ${
      evaluation.ratio.toFixed(3)
    }`;
    await writeTextFileAtomic(
      `${run.o.out}/final_eval.json`,
      JSON.stringify({ ...evaluation, step: run.step }, null, 1) + "\n",
    );
    await writePage(run);
  } else {
    say(
      run,
      `stopped at step ${run.step}; ${run.latestDir} holds it (continue with --resume)`,
    );
  }
  return {
    out: run.o.out!,
    status,
    epoch: status === "completed" ? run.totalEpochs : run.epoch,
    step: run.step,
    totalSteps: totalSteps(run),
    seconds: (performance.now() - run.t0) / 1000,
    checkpoint: run.latestDir,
    evaluation,
  };
}

/**
 * Trains pix2pix. With no options it trains the embedded `facades` set with
 * the `demo` recipe; with `data` it is the reference's pix2pix. The backend
 * must be selected first (`selectBackend` from `@p2p/backend`).
 *
 * Determinism: the weights come from `seed`, the data order and jitter from
 * a seeded RNG shuffled every epoch, and dropout from the trainer's seeded
 * stream; all three states go into every checkpoint, so `resume: true` after
 * a stop at step k ends with the same weights as an uninterrupted run.
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
  const run = await setUp(options, hooks);
  try {
    let status: "completed" | "stopped" = "completed";
    for (; run.epoch <= run.totalEpochs; run.epoch++) {
      if (await runEpoch(run) === "stopped") {
        status = "stopped";
        break;
      }
    }
    return await finish(run, status);
  } finally {
    run.trainer.dispose();
    run.trainer.generator.dispose();
    run.trainer.discriminator.dispose();
  }
}

/**
 * The options that describe the run itself: `options` without the ones that
 * only steer this call (`resume`, `resumeEpoch`, `force`, `maxSteps`,
 * `signal`).
 */
export function runSettings(
  options: TrainOptions,
): Partial<ResolvedTrainOptions> {
  const {
    resume: _r,
    resumeEpoch: _e,
    force: _f,
    maxSteps: _m,
    signal: _s,
    ...rest
  } = options;
  return rest;
}

function trainerOptions(o: ResolvedTrainOptions) {
  return {
    lr: o.lr,
    beta1: o.beta1,
    beta2: o.beta2,
    lambdaL1: o.lambdaL1,
    ganMode: o.ganMode,
    seed: o.seed,
  };
}
