/**
 * Learning-rate schedules by epoch, as the reference's `get_scheduler`:
 * `linear` (constant, then linearly to 0), `step`, `plateau` and `cosine`.
 *
 * @module
 */
import { oneOf } from "@p2p/internal";

/** The schedule policy (the reference's `--lr_policy`). */
export type SchedulePolicy = "linear" | "step" | "plateau" | "cosine";

/** Valid {@linkcode SchedulePolicy} values. */
export const SCHEDULE_POLICIES: readonly SchedulePolicy[] = [
  "linear",
  "step",
  "plateau",
  "cosine",
];

/** Options of {@linkcode learningRateAt} and {@linkcode learningRateSchedule}. */
export interface ScheduleOptions {
  /** Policy. @default "linear" */
  policy?: SchedulePolicy;
  /** Initial learning rate. @default 0.0002 */
  lr?: number;
  /** Epochs at the initial rate (`linear`), and the cosine period T_max (`cosine`) (the reference's `n_epochs`). @default 100 */
  epochs?: number;
  /** Epochs of linear decay to 0 after `epochs` (the reference's `n_epochs_decay`). @default 100 */
  epochsDecay?: number;
  /** `step`: epochs between decays (the reference's `lr_decay_iters`). @default 50 */
  stepSize?: number;
  /** `step`: multiplier at each decay. @default 0.1 */
  gamma?: number;
}

/** A learning rate per 1-based epoch. */
export type LearningRateSchedule = (epoch: number) => number;

function check(value: number, name: string, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(
      `${name} must be a number ≥ ${min}, received ${value}`,
    );
  }
  return value;
}

/**
 * The reference's `lambda_rule` for `linear`:
 * `1 − max(0, e + epoch_count − n_epochs) / (n_epochs_decay + 1)`, where `e`
 * counts scheduler steps from 0 and `epoch_count` is 1 for a run started from
 * scratch.
 */
export function linearLambda(
  e: number,
  epochs: number,
  epochsDecay: number,
  epochCount = 1,
): number {
  return 1 - Math.max(0, e + epochCount - epochs) / (epochsDecay + 1);
}

/**
 * The learning rate during 1-based `epoch`, with the reference's scheduler
 * stepped once at the end of each epoch (epoch `E` uses scheduler step
 * `E − 1`):
 * - `linear`: `lr · lambda_rule(E − 1)` = `lr` for epochs 1…`epochs`, then
 *   `lr · (1 − k / (epochsDecay + 1))` in epoch `epochs + k` (the last epoch
 *   trains at `lr / (epochsDecay + 1)`);
 * - `step`: `lr · gamma^⌊(E − 1) / stepSize⌋` (PyTorch `StepLR`);
 * - `cosine`: `lr · (1 + cos(π (E − 1) / epochs)) / 2` (PyTorch
 *   `CosineAnnealingLR`, `T_max = epochs`, `eta_min = 0`).
 *
 * @example
 * ```ts
 * import { learningRateAt } from "@p2p/train";
 * const o = { lr: 2e-4, epochs: 100, epochsDecay: 100 };
 * learningRateAt(100, o); // 0.0002
 * learningRateAt(101, o); // 0.0002 * (1 - 1 / 101)
 * learningRateAt(200, o); // 0.0002 / 101
 * ```
 */
export function learningRateAt(
  epoch: number,
  options: ScheduleOptions = {},
): number {
  const policy = oneOf(
    "schedule policy",
    options.policy ?? "linear",
    SCHEDULE_POLICIES,
  );
  const lr = check(options.lr ?? 2e-4, "lr", 0);
  const epochs = check(options.epochs ?? 100, "epochs", 0);
  const epochsDecay = check(options.epochsDecay ?? 100, "epochsDecay", 0);
  if (!Number.isInteger(epoch) || epoch < 1) {
    throw new RangeError(`epoch must be an integer ≥ 1, received ${epoch}`);
  }
  const e = epoch - 1;
  switch (policy) {
    case "linear":
      return lr * linearLambda(e, epochs, epochsDecay);
    case "step": {
      const stepSize = check(options.stepSize ?? 50, "stepSize", 1);
      const gamma = check(options.gamma ?? 0.1, "gamma", 0);
      return lr * gamma ** Math.floor(e / stepSize);
    }
    case "plateau":
      // ReduceLROnPlateau(factor 0.2, patience 5) fed the reference's pix2pix
      // metric, a constant 0: one ×0.2 after every 6 epochs without progress.
      return lr * 0.2 ** Math.floor(Math.max(0, e - 1) / 6);
    case "cosine": {
      const tMax = Math.max(1, epochs);
      return lr * (1 + Math.cos(Math.PI * e / tMax)) / 2;
    }
  }
}

/**
 * A schedule function over 1-based epochs (see {@linkcode learningRateAt});
 * options are validated once here.
 */
export function learningRateSchedule(
  options: ScheduleOptions = {},
): LearningRateSchedule {
  learningRateAt(1, options); // validates
  return (epoch: number) => learningRateAt(epoch, options);
}
