/**
 * `@p2p/train`: training pix2pix on tfjs.
 *
 * Where each concept lives, in reading order:
 * - `options.ts`: every training option, once ({@linkcode TRAIN_OPTIONS}),
 *   the recipes `reference` and `demo`, validation and resume rules.
 * - `networks.ts`: the networks the options describe, checked
 *   ({@linkcode networkConfigs}).
 * - `run_data.ts`: the training and held-out pairs ({@linkcode openRunData}).
 * - `losses.ts`: {@linkcode ganLoss} (`vanilla` / `lsgan` / `wgangp`),
 *   {@linkcode gradientPenalty}, {@linkcode l1Loss}.
 * - `optimizer.ts`: {@linkcode Adam}, the only code that knows tfjs's Adam
 *   internals (learning rate, state export and import; fused update kernel).
 * - `step.ts`: one training step of the reference ({@linkcode createTrainer}):
 *   `updateDiscriminator` then `updateGenerator`, losses keyed by
 *   {@linkcode LOSS_NAMES}; the trainer owns the optimizers and the dropout
 *   stream.
 * - `schedule.ts`: learning rates by epoch ({@linkcode learningRateAt}).
 * - `checkpoint.ts`: checkpoints written atomically
 *   ({@linkcode saveCheckpoint}, {@linkcode loadCheckpoint},
 *   {@linkcode loadGenerator}).
 * - `run_folder.ts`: the run folder, earlier runs, interrupted saves.
 * - `evaluation.ts`, `inference_state.ts`: sample grids and the held-out
 *   evaluation, without disturbing training.
 * - `report.ts`, `progress.ts`: the web page and the progress line.
 * - `train_loop.ts`: {@linkcode train}: set up, epochs, finish.
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
export * from "./options.ts";
export * from "./networks.ts";
export * from "./run_data.ts";
export * from "./losses.ts";
export * from "./optimizer.ts";
export * from "./step.ts";
export * from "./schedule.ts";
export * from "./checkpoint.ts";
export * from "./inference_state.ts";
export * from "./report.ts";
export * from "./evaluation.ts";
export * from "./run_folder.ts";
export * from "./progress.ts";
export * from "./train_loop.ts";
// The tensor types of this API are @p2p/layers' documented aliases of tfjs's.
export type { Tensor, Tensor4D, Variable } from "@p2p/layers";
