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
import { fusedAdam } from "@p2p/backend";

type NamedTensorList = { name: string; tensor: tf.Tensor }[];
import {
  checkGanMode,
  type DiscriminatorOutputKind,
  ganLoss,
  type GanMode,
  gradientPenalty,
  l1Loss,
} from "./losses.ts";
import type {
  AdamOptimizer,
  LayersModel,
  Tensor,
  Tensor4D,
  Variable,
} from "./types.ts";

/** Options of {@linkcode createTrainer}. */
export interface TrainerOptions {
  /** Adam learning rate of both optimizers (schedules change it per epoch). @default 0.0002 */
  lr?: number;
  /** Adam β1. @default 0.5 */
  beta1?: number;
  /** Adam β2. @default 0.999 */
  beta2?: number;
  /** Adam ε, PyTorch's default (tfjs would pick 1e-7). @default 1e-8 */
  epsilon?: number;
  /** Weight λ of the L1 term in G's loss. @default 100 */
  lambdaL1?: number;
  /** GAN objective. @default "vanilla" */
  ganMode?: GanMode;
  /** Weight λ_gp of the gradient penalty added to D's loss (`wgangp` only). @default 10 */
  lambdaGp?: number;
  /** What D outputs; `auto` reads the model's output layer (sigmoid, softmax or none = logits). @default "auto" */
  discriminatorOutput?: DiscriminatorOutputKind | "auto";
  /** Seed of the gradient penalty's mixing coefficients (`wgangp` only). @default 0 */
  seed?: number;
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
 * The losses of one step, as plain numbers, named as the reference prints
 * them: `G_GAN`, `G_L1` (already multiplied by λ), `D_real`, `D_fake` (each
 * before D's halving), and `D_GP` (the weighted penalty; 0 unless `wgangp`).
 */
export interface StepLosses {
  /** GAN loss of G: D(x, G(x)) judged as real. */
  G_GAN: number;
  /** λ · L1(G(x), y). */
  G_L1: number;
  /** D's loss on the real pair. */
  D_real: number;
  /** D's loss on the fake pair. */
  D_fake: number;
  /** D's weighted gradient penalty (0 unless `wgangp`). */
  D_GP: number;
}

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

/** A generator, a discriminator and their two Adam optimizers. */
export interface Trainer {
  /** The generator. */
  readonly generator: LayersModel;
  /** The discriminator. */
  readonly discriminator: LayersModel;
  /** G's optimizer. */
  readonly optimizerG: AdamOptimizer;
  /** D's optimizer. */
  readonly optimizerD: AdamOptimizer;
  /** The options in force. */
  readonly options: ResolvedTrainerOptions;
  /** Steps taken (D optimizer's iteration count; restored with a checkpoint). */
  readonly iterations: number;
  /** The current learning rate of both optimizers. */
  readonly learningRate: number;
  /** Sets the learning rate of both optimizers. */
  setLearningRate(lr: number): void;
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
  const out = options.discriminatorOutput ?? "auto";
  if (!["auto", "logits", "sigmoid", "softmax"].includes(out)) {
    throw new RangeError(
      `discriminatorOutput must be auto, logits, sigmoid or softmax, received "${out}"`,
    );
  }
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

function ordered(
  vars: Variable[],
  names: string[],
  grads: tf.NamedTensorMap,
  what: string,
): NamedTensorList {
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

type AdamInternals = { learningRate: number };

/**
 * Creates the trainer of a generator and a discriminator (inputs
 * `[source, target]`) with two Adam optimizers.
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
  // One fused update kernel per variable on wasm; exactly tf.train.adam elsewhere.
  const optimizerG = fusedAdam(
    opts.lr,
    opts.beta1,
    opts.beta2,
    opts.epsilon,
  );
  const optimizerD = fusedAdam(
    opts.lr,
    opts.beta1,
    opts.beta2,
    opts.epsilon,
  );
  const gVars = trainableVariables(generator);
  const dVars = trainableVariables(discriminator);
  const gNames = generator.trainableWeights.map((w) => w.originalName);
  const dNames = discriminator.trainableWeights.map((w) => w.originalName);
  if (gVars.length === 0 || dVars.length === 0) {
    throw new Error(
      `createTrainer: the ${
        gVars.length === 0 ? "generator" : "discriminator"
      } has no trainable weights`,
    );
  }
  const lossOpts = { mode: opts.ganMode, output: opts.discriminatorOutput };
  const D = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
    discriminator.apply([a, b], { training: true }) as tf.Tensor;

  let lr = opts.lr;
  const setLearningRate = (value: number): void => {
    positive(value, "learning rate", true);
    lr = value;
    (optimizerG as unknown as AdamInternals).learningRate = value;
    (optimizerD as unknown as AdamInternals).learningRate = value;
  };

  const step = async (
    x: Tensor4D,
    y: Tensor4D,
    probe?: StepProbe,
  ): Promise<StepLosses> => {
    checkBatch(x, y, generator);
    const gpSeed = opts.seed * 1_000_003 + optimizerD.iterations;
    const losses = tf.tidy(() => {
      let dParts: tf.Tensor | undefined;
      const probed: tf.Tensor[] = [];
      let gParts: tf.Tensor | undefined;
      try {
        const { value, grads } = tf.variableGrads(() => {
          const fake = generator.apply(x, { training: true }) as tf.Tensor;
          // The D phase differentiates only D's variables, so no gradient reaches G
          // through it (the reference's `fake.detach()`); D's update is an assign,
          // not a recorded op, so G's gradient below cannot flow through it either.
          const fakeDetached = fake;
          // D phase: the reference evaluates the fake pair first, then the real one.
          let predFake: tf.Tensor | undefined;
          let predReal: tf.Tensor | undefined;
          const dPhase = tf.variableGrads(() => {
            predFake = D(x, fakeDetached);
            const lossFake = ganLoss(predFake, false, lossOpts);
            predReal = D(x, y);
            const lossReal = ganLoss(predReal, true, lossOpts);
            let loss = tf.mul(tf.add(lossReal, lossFake), 0.5) as tf.Scalar;
            let gp: tf.Scalar = tf.scalar(0);
            if (opts.ganMode === "wgangp") {
              gp = gradientPenalty(discriminator, x, y, fakeDetached, {
                lambda: opts.lambdaGp,
                seed: gpSeed,
              });
              loss = tf.add(loss, gp) as tf.Scalar;
            }
            dParts = tf.keep(tf.stack([lossReal, lossFake, gp]));
            if (probe?.onForward) {
              // Kept past the D phase's scope for the probe; disposed below.
              probed.push(tf.keep(predFake), tf.keep(predReal));
            }
            return loss;
          }, dVars);
          const dGrads = ordered(dVars, dNames, dPhase.grads, "discriminator");
          probe?.onGradients?.(
            "D",
            dGrads.map((g, i) => ({ name: dNames[i], tensor: g.tensor })),
          );
          optimizerD.applyGradients(dGrads);
          tf.dispose([dPhase.value, ...Object.values(dPhase.grads)]);
          probe?.afterDiscriminatorUpdate?.();
          // G phase: D frozen (only G's variables are differentiated), same fake.
          const predFakeG = D(x, fake);
          const ganG = ganLoss(predFakeG, true, lossOpts);
          const l1 = tf.mul(l1Loss(fake, y), opts.lambdaL1) as tf.Scalar;
          probe?.onForward?.({
            fake,
            predReal: predReal!,
            predFake: predFake!,
            predFakeG,
          });
          gParts = tf.keep(tf.stack([ganG, l1]));
          return tf.add(ganG, l1) as tf.Scalar;
        }, gVars);
        const gGrads = ordered(gVars, gNames, grads, "generator");
        probe?.onGradients?.(
          "G",
          gGrads.map((g, i) => ({ name: gNames[i], tensor: g.tensor })),
        );
        optimizerG.applyGradients(gGrads);
        tf.dispose([value, ...Object.values(grads)]);
        return tf.concat([gParts!, dParts!]);
      } finally {
        tf.dispose([dParts, gParts].filter((t) => t !== undefined));
        tf.dispose(probed);
      }
    });
    const v = await losses.data();
    losses.dispose();
    return {
      G_GAN: v[0],
      G_L1: v[1],
      D_real: v[2],
      D_fake: v[3],
      D_GP: v[4],
    };
  };

  return {
    generator,
    discriminator,
    optimizerG,
    optimizerD,
    options: opts,
    get iterations(): number {
      return optimizerD.iterations;
    },
    get learningRate(): number {
      return lr;
    },
    setLearningRate,
    step,
    dispose(): void {
      optimizerG.dispose();
      optimizerD.dispose();
    },
  };
}
