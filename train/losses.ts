/**
 * The pix2pix objectives: the GAN losses of the reference's `GANLoss`
 * (`vanilla`, `lsgan`, `wgangp`), the WGAN-GP gradient penalty of
 * `cal_gradient_penalty`, and the L1 reconstruction term.
 *
 * @module
 */
import { oneOf } from "@p2p/internal";
import * as tf from "@tensorflow/tfjs";
import type { Scalar, Tensor } from "@p2p/layers";
import type { LayersModel } from "@p2p/models";

/**
 * The GAN objective: `vanilla` (binary cross-entropy, the paper's),
 * `lsgan` (least squares: MSE to 1 for real, 0 for fake) or `wgangp`
 * (Wasserstein critic with a gradient penalty).
 */
export type GanMode = "vanilla" | "lsgan" | "wgangp";

/** Valid {@linkcode GanMode} values. */
export const GAN_MODES: readonly GanMode[] = ["vanilla", "lsgan", "wgangp"];

/**
 * What a discriminator outputs: `logits` (the reference; the sigmoid lives in
 * the loss), `sigmoid` probabilities, or `softmax` probabilities `[batch, 2]`
 * with index 1 = real (the whole-image discriminator).
 */
export type DiscriminatorOutputKind = "logits" | "sigmoid" | "softmax";

/** Probabilities are clipped to `[ε, 1 − ε]` before their logarithm (as Keras). */
export const PROBABILITY_EPSILON = 1e-7;

/** Throws a clear error unless `mode` is a {@linkcode GanMode}. */
export function checkGanMode(mode: string, where = "ganMode"): GanMode {
  return oneOf(where, mode, GAN_MODES);
}

/**
 * Mean binary cross-entropy of `logits` against a constant `target` (1 real,
 * 0 fake), in the numerically stable form
 * `max(x, 0) − x·t + log(1 + exp(−|x|))` (PyTorch's `BCEWithLogitsLoss`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { bceWithLogits } from "@p2p/train";
 * await tf.setBackend("cpu");
 * const loss = bceWithLogits(tf.tensor([0]), 1);
 * console.log(loss.dataSync()[0].toFixed(4)); // 0.6931 (= log 2)
 * ```
 */
export function bceWithLogits(logits: Tensor, target: number): Scalar {
  return tf.tidy(() => {
    const x = tf.cast(logits, "float32");
    const loss = tf.add(
      tf.sub(tf.relu(x), tf.mul(x, target)),
      tf.log1p(tf.exp(tf.neg(tf.abs(x)))),
    );
    return tf.mean(loss) as Scalar;
  });
}

/**
 * Mean binary cross-entropy of probabilities `p` against a constant `target`,
 * with `p` clipped to `[ε, 1 − ε]` ({@linkcode PROBABILITY_EPSILON}) so that
 * neither the loss nor its gradient is infinite.
 */
export function bceOnProbabilities(
  p: Tensor,
  target: number,
  epsilon: number = PROBABILITY_EPSILON,
): Scalar {
  return tf.tidy(() => {
    const q = tf.clipByValue(tf.cast(p, "float32"), epsilon, 1 - epsilon);
    const loss = tf.neg(tf.add(
      tf.mul(target, tf.log(q)),
      tf.mul(1 - target, tf.log(tf.sub(1, q))),
    ));
    return tf.mean(loss) as Scalar;
  });
}

/** Mean squared error of `x` against a constant `target`. */
export function mseToConstant(x: Tensor, target: number): Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(x, target))) as Scalar);
}

/** Mean absolute difference `mean(|a − b|)` (PyTorch's `L1Loss`). */
export function l1Loss(a: Tensor, b: Tensor): Scalar {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new RangeError(
      `l1Loss: shapes differ: [${a.shape}] vs [${b.shape}]`,
    );
  }
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))) as Scalar);
}

/** Options of {@linkcode ganLoss}. */
export interface GanLossOptions {
  /** The GAN objective. @default "vanilla" */
  mode?: GanMode;
  /** What the discriminator outputs. @default "logits" */
  output?: DiscriminatorOutputKind;
}

/**
 * The probability (or logit) of "real" that a loss sees: the output itself,
 * or column 1 of a `[batch, 2]` softmax.
 */
function realScore(
  prediction: Tensor,
  output: DiscriminatorOutputKind,
): Tensor {
  if (output !== "softmax") return prediction;
  const last = prediction.shape[prediction.rank - 1];
  if (prediction.rank !== 2 || last !== 2) {
    throw new RangeError(
      `ganLoss: a softmax discriminator must output [batch, 2], received [${prediction.shape}]`,
    );
  }
  return tf.slice(prediction, [0, 1], [-1, 1]);
}

/**
 * The GAN loss of a discriminator `prediction` for real (`targetIsReal`) or
 * fake samples, as the reference's `GANLoss`:
 * - `vanilla`: BCE (with logits, or on clipped probabilities when the
 *   discriminator outputs `sigmoid` / `softmax`);
 * - `lsgan`: MSE to 1 (real) or 0 (fake);
 * - `wgangp`: `−mean(prediction)` for real, `mean(prediction)` for fake
 *   (needs logits: a probability is no critic).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { ganLoss } from "@p2p/train";
 * await tf.setBackend("cpu");
 * const p = tf.tensor([2, -1]);
 * console.log(ganLoss(p, true, { mode: "lsgan" }).dataSync()[0]); // 2.5
 * ```
 */
export function ganLoss(
  prediction: Tensor,
  targetIsReal: boolean,
  options: GanLossOptions = {},
): Scalar {
  const mode = checkGanMode(options.mode ?? "vanilla", "ganLoss mode");
  const output = options.output ?? "logits";
  if (!["logits", "sigmoid", "softmax"].includes(output)) {
    throw new RangeError(
      `ganLoss output must be logits, sigmoid or softmax, received "${output}"`,
    );
  }
  const target = targetIsReal ? 1 : 0;
  return tf.tidy(() => {
    const score = realScore(prediction, output);
    switch (mode) {
      case "vanilla":
        return output === "logits"
          ? bceWithLogits(score, target)
          : bceOnProbabilities(score, target);
      case "lsgan":
        return mseToConstant(score, target);
      case "wgangp":
        if (output !== "logits") {
          throw new RangeError(
            `gan mode "wgangp" needs a discriminator that outputs logits (a critic), but it outputs ${output} probabilities; use vanilla or lsgan, or a patch discriminator with output "logits"`,
          );
        }
        return (targetIsReal
          ? tf.neg(tf.mean(score))
          : tf.mean(score)) as Scalar;
    }
  });
}

const BINARY_PIECEWISE_CONSTANT = [
  "Greater",
  "GreaterEqual",
  "Less",
  "LessEqual",
  "Equal",
  "NotEqual",
];
const UNARY_PIECEWISE_CONSTANT = ["Sign", "Floor", "Ceil", "Round"];

/**
 * Registers the (zero) gradients tfjs lacks for piecewise-constant kernels
 * such as `Greater`, which the gradient of LeakyReLU uses: the gradient
 * penalty differentiates a gradient, and tfjs refuses to go through them
 * otherwise. Idempotent; kernels that already have a gradient are left alone.
 */
export function registerSecondOrderGradients(): void {
  for (const kernelName of BINARY_PIECEWISE_CONSTANT) {
    if (tf.getGradient(kernelName) != null) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ["a", "b"],
      gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => ({
        a: () => tf.zerosLike(saved[0]),
        b: () => tf.zerosLike(saved[1]),
      }),
    });
  }
  for (const kernelName of UNARY_PIECEWISE_CONSTANT) {
    if (tf.getGradient(kernelName) != null) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ["x"],
      gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => ({
        x: () => tf.zerosLike(saved[0]),
      }),
    });
  }
}

/** Options of {@linkcode gradientPenalty}. */
export interface GradientPenaltyOptions {
  /** Weight λ_gp of the penalty. @default 10 */
  lambda?: number;
  /** The norm the gradients are pulled towards. @default 1 */
  constant?: number;
  /** Seed of the per-sample mixing coefficients α ~ U(0, 1). @default 0 */
  seed?: number;
  /** Run the discriminator in training mode (batch statistics, as the reference). @default true */
  training?: boolean;
}

/**
 * The WGAN-GP gradient penalty of the reference's `cal_gradient_penalty`
 * (`type: "mixed"`) for a conditional discriminator: the target is mixed as
 * `α·real + (1 − α)·fake` with one α per sample, and the penalty is
 * `λ · mean_b((‖∇ D(source, mix)‖₂ + …) − c)²`, the gradient taken with
 * respect to the whole discriminator input (source and mixed target, as the
 * reference's concatenated `real_AB`; the source part of the mix is the
 * source itself). The reference adds 1e-16 to each gradient element before
 * the norm; so does this.
 */
export function gradientPenalty(
  discriminator: LayersModel,
  source: Tensor,
  real: Tensor,
  fake: Tensor,
  options: GradientPenaltyOptions = {},
): Scalar {
  const lambda = options.lambda ?? 10;
  const constant = options.constant ?? 1;
  const training = options.training ?? true;
  if (!tf.util.arraysEqual(real.shape, fake.shape)) {
    throw new RangeError(
      `gradientPenalty: real [${real.shape}] and fake [${fake.shape}] differ`,
    );
  }
  registerSecondOrderGradients();
  return tf.tidy(() => {
    const b = real.shape[0];
    const alpha = tf.randomUniform(
      [b, ...real.shape.slice(1).map(() => 1)],
      0,
      1,
      "float32",
      options.seed ?? 0,
    );
    const mix = tf.add(tf.mul(alpha, real), tf.mul(tf.sub(1, alpha), fake));
    const [gSource, gMix] = tf.grads((s: Tensor, m: Tensor) =>
      tf.sum(discriminator.apply([s, m], { training }) as Tensor)
    )([source, mix]);
    const flat = tf.concat([
      tf.reshape(tf.add(gSource, 1e-16), [b, -1]),
      tf.reshape(tf.add(gMix, 1e-16), [b, -1]),
    ], 1);
    const norm = tf.sqrt(tf.sum(tf.square(flat), 1));
    return tf.mul(tf.mean(tf.square(tf.sub(norm, constant))), lambda) as Scalar;
  });
}
