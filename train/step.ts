/**
 * One pix2pix training step, exactly as the reference's
 * `Pix2PixModel.optimize_parameters`: `fake = G(x)` in training mode; a D
 * update on the real pair and on the detached fake with the loss halved; then
 * a G update through the *updated* D with D's weights frozen, reusing the same
 * `fake` (G runs forward once per step).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  attachDropoutStream,
  type DropoutState,
  DropoutStream,
} from "@p2p/layers";
import type { LayersModel } from "@p2p/models";
import { oneOf } from "@p2p/internal";
import {
  type Adam,
  type AdamOptions,
  type AdamState,
  createAdam,
  optimizedWeights,
} from "./optimizer.ts";
import {
  checkGanMode,
  type DiscriminatorOutputKind,
  ganLoss,
  type GanMode,
  gradientPenalty,
  l1Loss,
} from "./losses.ts";
import { untaped } from "./untaped.ts";
import type { Tensor, Tensor4D, Variable } from "@p2p/layers";

/** Options of {@linkcode createTrainer}: both optimizers' ({@linkcode AdamOptions}) and the losses'. */
export interface TrainerOptions extends AdamOptions {
  /** Weight λ of the L1 term in G's loss. @default 100 */
  lambdaL1?: number;
  /** GAN objective. @default "vanilla" */
  ganMode?: GanMode;
  /** Weight λ_gp of the gradient penalty added to D's loss (`wgangp` only). @default 10 */
  lambdaGp?: number;
  /** What D outputs; `auto` reads the model's output layer (sigmoid, softmax or none = logits). @default "auto" */
  discriminatorOutput?: DiscriminatorOutputKind | "auto";
  /** Seed of the gradient penalty's mixing coefficients (`wgangp` only) and of the dropout stream. @default 0 */
  seed?: number;
  /** Where the generator's dropout stream continues from (a checkpoint's). @default a stream at `seed` */
  dropout?: DropoutState;
}

/** {@linkcode TrainerOptions} with every default filled in. */
export interface ResolvedTrainerOptions {
  /** Initial learning rate. */
  lr: number;
  /** Adam β1. */
  beta1: number;
  /** Adam β2. */
  beta2: number;
  /** Adam ε. */
  epsilon: number;
  /** λ of the L1 term. */
  lambdaL1: number;
  /** GAN objective. */
  ganMode: GanMode;
  /** λ of the gradient penalty. */
  lambdaGp: number;
  /** What D outputs. */
  discriminatorOutput: DiscriminatorOutputKind;
  /** Gradient-penalty seed. */
  seed: number;
}

/**
 * The names of the losses of one step, in the order they are logged, as the
 * reference prints them: `G_GAN`, `G_L1` (already multiplied by λ),
 * `D_real`, `D_fake` (each before D's halving), and `D_GP` (the weighted
 * gradient penalty; 0 unless `wgangp`).
 */
export const LOSS_NAMES = [
  "G_GAN",
  "G_L1",
  "D_real",
  "D_fake",
  "D_GP",
] as const;

/** One of {@linkcode LOSS_NAMES}. */
export type LossName = typeof LOSS_NAMES[number];

/** The losses of one step as plain numbers, keyed by {@linkcode LOSS_NAMES}. */
export type StepLosses = Record<LossName, number>;

/** Tensors of one step's forward pass, shown to a {@linkcode StepProbe} (valid only during the call). */
export interface StepForward {
  /** G(x). */
  fake: Tensor;
  /** D(x, y) in the D phase. */
  predReal: Tensor;
  /** D(x, fake) in the D phase (before D's update). */
  predFake: Tensor;
  /** D(x, fake) in the G phase (after D's update). */
  predFakeG: Tensor;
}

/** One named gradient, in the order the optimizer receives it. */
export interface NamedGradient {
  /** The model weight's name (e.g. `e1_conv/kernel`). */
  name: string;
  /** The gradient (valid only during the callback). */
  tensor: Tensor;
}

/**
 * Hooks into a step, for tests and debugging. Callbacks run synchronously
 * inside the step; tensors handed to them are disposed after they return.
 */
export interface StepProbe {
  /** Called after D's update and before G's loss is computed. */
  afterDiscriminatorUpdate?: () => void;
  /** Called with each phase's gradients just before the optimizer applies them. */
  onGradients?: (phase: "D" | "G", grads: NamedGradient[]) => void;
  /** Called once the G phase's forward pass is done. */
  onForward?: (forward: StepForward) => void;
}

/** Both optimizers' states. */
export interface OptimizerState {
  /** G's Adam state. */
  generator: AdamState;
  /** D's Adam state. */
  discriminator: AdamState;
}

/** A generator, a discriminator and their two Adam optimizers. */
export interface Trainer {
  /** The generator. */
  readonly generator: LayersModel;
  /** The discriminator. */
  readonly discriminator: LayersModel;
  /** G's optimizer. */
  readonly optimizerG: Adam;
  /** D's optimizer. */
  readonly optimizerD: Adam;
  /** The dropout mask stream of the generator (checkpointed with the run). */
  readonly dropout: DropoutStream;
  /** The options in force. */
  readonly options: ResolvedTrainerOptions;
  /** Steps taken (D optimizer's iteration count; restored with a checkpoint). */
  readonly iterations: number;
  /** The current learning rate of both optimizers. */
  readonly learningRate: number;
  /** Sets the learning rate of both optimizers. */
  setLearningRate(lr: number): void;
  /** Both optimizers' states (live tensors: read before the next step). */
  exportOptimizerState(): Promise<OptimizerState>;
  /** Continues from saved optimizer states (a fresh trainer only). */
  importOptimizerState(state: OptimizerState): Promise<void>;
  /**
   * One training step on a batch: `x` the inputs `[b, h, w, inChannels]`, `y`
   * the targets `[b, h, w, outChannels]`, both in [-1, 1]. Leaves no tensor
   * behind; the losses are read with one `await data()`.
   */
  step(x: Tensor4D, y: Tensor4D, probe?: StepProbe): Promise<StepLosses>;
  /** Disposes the optimizers' state (not the models). */
  dispose(): void;
}

function positive(value: number, name: string, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(
      `${name} must be a ${
        allowZero ? "non-negative" : "positive"
      } number, received ${value}`,
    );
  }
  return value;
}

function unit(value: number, name: string): number {
  if (!(value >= 0 && value < 1)) {
    throw new RangeError(`${name} must be in [0, 1), received ${value}`);
  }
  return value;
}

/**
 * What a discriminator outputs, read from its output layer: `softmax` or
 * `sigmoid` when that layer (an activation or dense layer) has that
 * activation, `logits` otherwise.
 */
export function detectDiscriminatorOutput(
  discriminator: LayersModel,
): DiscriminatorOutputKind {
  const layer = discriminator.outputLayers[0];
  const activation = layer?.getConfig()?.activation;
  if (activation === "softmax") return "softmax";
  if (activation === "sigmoid") return "sigmoid";
  return "logits";
}

/** Fills defaults and validates; errors name the option and the value. */
export function resolveTrainerOptions(
  options: TrainerOptions,
  discriminator?: LayersModel,
): ResolvedTrainerOptions {
  const out = oneOf(
    "discriminatorOutput",
    options.discriminatorOutput ?? "auto",
    [
      "auto",
      "logits",
      "sigmoid",
      "softmax",
    ] as const,
  );
  let output: DiscriminatorOutputKind;
  if (out === "auto") {
    if (!discriminator) {
      throw new RangeError(
        `discriminatorOutput "auto" needs the discriminator model`,
      );
    }
    output = detectDiscriminatorOutput(discriminator);
  } else output = out;
  const ganMode = checkGanMode(options.ganMode ?? "vanilla");
  if (ganMode === "wgangp" && output !== "logits") {
    throw new RangeError(
      `gan mode "wgangp" needs a discriminator that outputs logits, but it outputs ${output} probabilities; use vanilla or lsgan, or the reference preset`,
    );
  }
  return {
    lr: positive(options.lr ?? 2e-4, "lr", true),
    beta1: unit(options.beta1 ?? 0.5, "beta1"),
    beta2: unit(options.beta2 ?? 0.999, "beta2"),
    epsilon: positive(options.epsilon ?? 1e-8, "epsilon"),
    lambdaL1: positive(options.lambdaL1 ?? 100, "lambdaL1", true),
    ganMode,
    lambdaGp: positive(options.lambdaGp ?? 10, "lambdaGp", true),
    discriminatorOutput: output,
    seed: Math.trunc(options.seed ?? 0),
  };
}

/** The trainable variables of a model, in `model.trainableWeights` order. */
export function trainableVariables(model: LayersModel): Variable[] {
  return model.trainableWeights.map((w) => w.read() as Variable);
}

function orderedGradients(
  vars: Variable[],
  names: string[],
  grads: tf.NamedTensorMap,
  phase: "D" | "G",
): { name: string; tensor: tf.Tensor }[] {
  const what = phase === "D" ? "discriminator" : "generator";
  return vars.map((v, i) => {
    const tensor = grads[v.name];
    if (tensor == null) {
      throw new Error(
        `${what} weight "${
          names[i]
        }" got no gradient: it does not affect the loss`,
      );
    }
    return { name: v.name, tensor };
  });
}

function checkBatch(
  x: tf.Tensor,
  y: tf.Tensor,
  generator: LayersModel,
): void {
  if (x.rank !== 4 || y.rank !== 4) {
    throw new RangeError(
      `trainer.step: x and y must be [batch, height, width, channels], received [${x.shape}] and [${y.shape}]`,
    );
  }
  if (
    x.shape[0] !== y.shape[0] || x.shape[1] !== y.shape[1] ||
    x.shape[2] !== y.shape[2]
  ) {
    throw new RangeError(
      `trainer.step: x [${x.shape}] and y [${y.shape}] differ in batch, height or width`,
    );
  }
  const inC = generator.inputs[0].shape[3];
  const outC = generator.outputs[0].shape[3];
  if (inC != null && x.shape[3] !== inC) {
    throw new RangeError(
      `trainer.step: x has ${x.shape[3]} channels, the generator takes ${inC}`,
    );
  }
  if (outC != null && y.shape[3] !== outC) {
    throw new RangeError(
      `trainer.step: y has ${
        y.shape[3]
      } channels, the generator outputs ${outC}`,
    );
  }
}

/** What the two phases of a step share. */
interface StepContext {
  generator: LayersModel;
  discriminator: LayersModel;
  optimizerG: Adam;
  optimizerD: Adam;
  options: ResolvedTrainerOptions;
  gVars: Variable[];
  dVars: Variable[];
  gNames: string[];
  dNames: string[];
}

/** The tensors a phase hands on, kept past the phase's tape. */
interface PhaseLosses {
  /** The phase's losses, in {@linkcode LOSS_NAMES} order for its names. */
  parts: tf.Tensor1D;
  /** Tensors kept for the probe (disposed by the step). */
  probed: tf.Tensor[];
}

function discriminate(
  ctx: StepContext,
  source: tf.Tensor,
  target: tf.Tensor,
): tf.Tensor {
  return ctx.discriminator.apply([source, target], {
    training: true,
  }) as tf.Tensor;
}

function applyPhase(
  phase: "D" | "G",
  ctx: StepContext,
  grads: tf.NamedTensorMap,
  probe: StepProbe | undefined,
): void {
  const [vars, names, optimizer] = phase === "D"
    ? [ctx.dVars, ctx.dNames, ctx.optimizerD]
    : [ctx.gVars, ctx.gNames, ctx.optimizerG];
  const ordered = orderedGradients(vars, names, grads, phase);
  probe?.onGradients?.(
    phase,
    ordered.map((g, i) => ({ name: names[i], tensor: g.tensor })),
  );
  optimizer.applyGradients(ordered);
}

/**
 * The D phase: `0.5 · (GAN(D(x, y), real) + GAN(D(x, fake), fake))` (+ the
 * gradient penalty for `wgangp`), differentiated only with respect to D's
 * variables (so no gradient reaches G: the reference's `fake.detach()`), and
 * D's update. The reference evaluates the fake pair first, then the real one.
 * Returns `[D_real, D_fake, D_GP]`.
 */
function updateDiscriminator(
  ctx: StepContext,
  x: tf.Tensor,
  y: tf.Tensor,
  fake: tf.Tensor,
  probe: StepProbe | undefined,
): PhaseLosses {
  const { mode, output } = {
    mode: ctx.options.ganMode,
    output: ctx.options.discriminatorOutput,
  };
  const probed: tf.Tensor[] = [];
  let parts: tf.Tensor1D | undefined;
  const gpSeed = ctx.options.seed * 1_000_003 + ctx.optimizerD.iterations;
  const { value, grads } = tf.variableGrads(() => {
    const predFake = discriminate(ctx, x, fake);
    const lossFake = ganLoss(predFake, false, { mode, output });
    const predReal = discriminate(ctx, x, y);
    const lossReal = ganLoss(predReal, true, { mode, output });
    let loss = tf.mul(tf.add(lossReal, lossFake), 0.5) as tf.Scalar;
    let gp: tf.Scalar = tf.scalar(0);
    if (mode === "wgangp") {
      gp = gradientPenalty(ctx.discriminator, x, y, fake, {
        lambda: ctx.options.lambdaGp,
        seed: gpSeed,
      });
      loss = tf.add(loss, gp) as tf.Scalar;
    }
    parts = tf.keep(tf.stack([lossReal, lossFake, gp]) as tf.Tensor1D);
    if (probe?.onForward) probed.push(tf.keep(predReal), tf.keep(predFake));
    return loss;
  }, ctx.dVars);
  try {
    applyPhase("D", ctx, grads, probe);
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
  probe?.afterDiscriminatorUpdate?.();
  return { parts: parts!, probed };
}

/**
 * The G phase around the D phase, as the reference's
 * `optimize_parameters`: `fake = G(x)` (training mode) once; D's update on
 * it ({@linkcode updateDiscriminator}); then G's loss
 * `GAN(D(x, fake), real) + λ · L1(fake, y)` through the updated D with D's
 * weights frozen (only G's variables are differentiated), and G's update.
 * Returns all five losses in {@linkcode LOSS_NAMES} order.
 */
function updateGenerator(
  ctx: StepContext,
  x: tf.Tensor,
  y: tf.Tensor,
  probe: StepProbe | undefined,
): tf.Tensor1D {
  let gParts: tf.Tensor1D | undefined;
  let d: PhaseLosses | undefined;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const fake = ctx.generator.apply(x, { training: true }) as tf.Tensor;
      // D's phase leads nowhere in G's loss: G's tape need not record it.
      d = untaped(() => updateDiscriminator(ctx, x, y, fake, probe));
      const predFakeG = discriminate(ctx, x, fake);
      const ganG = ganLoss(predFakeG, true, {
        mode: ctx.options.ganMode,
        output: ctx.options.discriminatorOutput,
      });
      const l1 = tf.mul(l1Loss(fake, y), ctx.options.lambdaL1) as tf.Scalar;
      if (probe?.onForward) {
        const [predReal, predFake] = d.probed;
        probe.onForward({ fake, predReal, predFake, predFakeG });
      }
      gParts = tf.keep(tf.stack([ganG, l1]) as tf.Tensor1D);
      return tf.add(ganG, l1) as tf.Scalar;
    }, ctx.gVars);
    try {
      applyPhase("G", ctx, grads, probe);
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
    return tf.concat([gParts!, d!.parts]);
  } finally {
    tf.dispose([gParts, d?.parts, ...(d?.probed ?? [])].filter((t) => t));
  }
}

function contextOf(
  generator: LayersModel,
  discriminator: LayersModel,
  options: ResolvedTrainerOptions,
): StepContext {
  const adam = () =>
    createAdam({
      lr: options.lr,
      beta1: options.beta1,
      beta2: options.beta2,
      epsilon: options.epsilon,
    });
  const ctx: StepContext = {
    generator,
    discriminator,
    optimizerG: adam(),
    optimizerD: adam(),
    options,
    gVars: trainableVariables(generator),
    dVars: trainableVariables(discriminator),
    gNames: generator.trainableWeights.map((w) => w.originalName),
    dNames: discriminator.trainableWeights.map((w) => w.originalName),
  };
  if (ctx.gVars.length === 0 || ctx.dVars.length === 0) {
    throw new Error(
      `createTrainer: the ${
        ctx.gVars.length === 0 ? "generator" : "discriminator"
      } has no trainable weights`,
    );
  }
  return ctx;
}

/**
 * Creates the trainer of a generator and a discriminator (inputs
 * `[source, target]`) with two Adam optimizers and the generator's dropout
 * stream.
 *
 * The step follows the reference: G forward once (training mode: batch
 * statistics, dropout); D's loss `0.5 · (GAN(D(x, y), real) + GAN(D(x,
 * fake.detached), fake))` (+ the gradient penalty for `wgangp`) and its
 * update; then G's loss `GAN(D(x, fake), real) + λ · L1(fake, y)` through the
 * updated D, differentiated only with respect to G's variables, and G's
 * update. D runs in training mode in both phases (its BatchNorm statistics
 * move three times a step, fake then real then fake, as the reference).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { patchDiscriminator, unet } from "@p2p/models";
 * import { createTrainer } from "@p2p/train";
 *
 * await tf.setBackend("cpu");
 * const trainer = createTrainer(
 *   unet({ depth: 5, ngf: 2, size: 32 }),
 *   patchDiscriminator({ ndf: 2, size: 32 }),
 * );
 * const x = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
 * const losses = await trainer.step(x, x);
 * console.log(Object.keys(losses)); // ["G_GAN", "G_L1", "D_real", "D_fake", "D_GP"]
 * ```
 */
export function createTrainer(
  generator: LayersModel,
  discriminator: LayersModel,
  options: TrainerOptions = {},
): Trainer {
  const opts = resolveTrainerOptions(options, discriminator);
  const ctx = contextOf(generator, discriminator, opts);
  const { optimizerG, optimizerD } = ctx;
  const dropout = new DropoutStream(options.dropout ?? opts.seed);
  attachDropoutStream(generator, dropout);
  const step = async (
    x: Tensor4D,
    y: Tensor4D,
    probe?: StepProbe,
  ): Promise<StepLosses> => {
    checkBatch(x, y, generator);
    const losses = tf.tidy(() => updateGenerator(ctx, x, y, probe));
    const values = await losses.data();
    losses.dispose();
    return Object.fromEntries(
      LOSS_NAMES.map((name, i) => [name, values[i]]),
    ) as StepLosses;
  };
  return {
    generator,
    discriminator,
    optimizerG,
    optimizerD,
    dropout,
    options: opts,
    get iterations(): number {
      return optimizerD.iterations;
    },
    get learningRate(): number {
      return optimizerG.lr;
    },
    setLearningRate(lr: number): void {
      optimizerG.setLearningRate(lr);
      optimizerD.setLearningRate(lr);
    },
    async exportOptimizerState(): Promise<OptimizerState> {
      return {
        generator: await optimizerG.exportState(optimizedWeights(generator)),
        discriminator: await optimizerD.exportState(
          optimizedWeights(discriminator),
        ),
      };
    },
    async importOptimizerState(state: OptimizerState): Promise<void> {
      await optimizerG.importState(
        state.generator,
        optimizedWeights(generator),
        "generator",
      );
      await optimizerD.importState(
        state.discriminator,
        optimizedWeights(discriminator),
        "discriminator",
      );
    },
    step,
    dispose(): void {
      optimizerG.dispose();
      optimizerD.dispose();
      attachDropoutStream(generator, null);
    },
  };
}
