/**
 * Progress text for a training run: a one-line bar for terminals and plain
 * periodic lines for logs.
 *
 * @module
 */
import type { StepLosses } from "./step.ts";

/** Where a run stands after a step (handed to `TrainHooks.onStep`). */
export interface TrainProgress {
  /** 1-based epoch. */
  epoch: number;
  /** Last epoch of the run. */
  epochs: number;
  /** Steps done in the run. */
  step: number;
  /** Steps the whole run takes. */
  totalSteps: number;
  /** Batches done in this epoch. */
  epochStep: number;
  /** Batches in this epoch. */
  stepsPerEpoch: number;
  /** The step's losses. */
  losses: StepLosses;
  /** Learning rate of this epoch. */
  lr: number;
  /** Steps per second over this session. */
  itPerSec: number;
  /** Estimated seconds to the end of training. */
  etaSec: number;
}

/** `1:05:09`, `4:09` or `9s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h > 0) {
    return `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
  }
  if (m > 0) return `${m}:${String(r).padStart(2, "0")}`;
  return `${r}s`;
}

/** The losses as `G_GAN 0.693 G_L1 12.3 D_real 0.69 D_fake 0.70`. */
export function formatLosses(l: StepLosses): string {
  const f = (v: number) => Number(v.toPrecision(3)).toString();
  return `G_GAN ${f(l.G_GAN)} G_L1 ${f(l.G_L1)} D_real ${f(l.D_real)} D_fake ${
    f(l.D_fake)
  }${l.D_GP ? ` D_GP ${f(l.D_GP)}` : ""}`;
}

/** A terminal progress bar of about `width` columns (no newline). */
export function formatProgressBar(p: TrainProgress, width = 100): string {
  const head = `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.totalSteps} `;
  const tail = ` ${p.itPerSec.toFixed(2)} it/s ETA ${
    formatDuration(p.etaSec)
  } ${formatLosses(p.losses)}`;
  const barWidth = Math.max(
    10,
    Math.min(40, width - head.length - tail.length - 2),
  );
  const frac = p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
  const filled = Math.round(frac * barWidth);
  return `${head}[${"#".repeat(filled)}${
    ".".repeat(barWidth - filled)
  }]${tail}`;
}

/** A plain progress line for logs. */
export function formatProgressLine(p: TrainProgress): string {
  return `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.totalSteps} (${
    (100 * p.step / Math.max(1, p.totalSteps)).toFixed(0)
  }%) ${p.itPerSec.toFixed(2)} it/s ETA ${formatDuration(p.etaSec)} lr ${
    p.lr.toExponential(2)
  } ${formatLosses(p.losses)}`;
}
