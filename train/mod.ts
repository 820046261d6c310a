/**
 * `@p2p/train`: training pix2pix on tfjs.
 *
 * - Losses ({@linkcode ganLoss} `vanilla` / `lsgan` / `wgangp`,
 *   {@linkcode gradientPenalty}, {@linkcode l1Loss}).
 * - The training step of the reference ({@linkcode createTrainer}): G forward
 *   once, D updated on the real and the detached fake with the loss halved,
 *   then G updated through the updated, frozen D with the same fake; Adam
 *   2e-4, β1 0.5, β2 0.999.
 * - Learning-rate schedules by epoch ({@linkcode learningRateAt}: `linear`,
 *   `step`, `cosine`).
 * - Checkpoints written atomically, with G as browser-loadable tfjs artifacts,
 *   both Adam states and the RNG and dropout states for exact resume
 *   ({@linkcode saveCheckpoint}, {@linkcode loadCheckpoint},
 *   {@linkcode loadGenerator}).
 * - The training loop behind `deno task train` ({@linkcode train}).
 *
 * @example One training step on a tiny model
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { buildDiscriminator, buildGenerator, preset } from "@p2p/models";
 * import { createTrainer } from "@p2p/train";
 *
 * await tf.setBackend("cpu");
 * const p = preset("reference", { size: 32, depth: 5, ngf: 2, ndf: 2 });
 * const trainer = createTrainer(buildGenerator(p.generator), buildDiscriminator(p.discriminator));
 * const x = tf.randomUniform([1, 32, 32, 3], -1, 1) as tf.Tensor4D;
 * const y = tf.randomUniform([1, 32, 32, 3], -1, 1) as tf.Tensor4D;
 * const losses = await trainer.step(x, y);
 * console.log(losses.G_L1 > 0); // true
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./losses.ts";
export * from "./step.ts";
export * from "./schedule.ts";
export * from "./checkpoint.ts";
export * from "./inference_state.ts";
export * from "./report.ts";
export * from "./progress.ts";
export * from "./train_loop.ts";
