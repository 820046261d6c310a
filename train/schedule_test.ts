import assert from "node:assert/strict";
import { learningRateAt, learningRateSchedule, linearLambda } from "./mod.ts";

const close = (a: number, b: number) =>
  assert.ok(Math.abs(a - b) <= 1e-12, `${a} vs ${b}`);

Deno.test("linear: the reference's lambda_rule, stepped at the end of each epoch", () => {
  const o = { lr: 2e-4, epochs: 100, epochsDecay: 100 };
  // lambda_rule(e) = 1 − max(0, e + epoch_count − n_epochs) / (n_epochs_decay + 1), epoch_count = 1.
  for (const epoch of [1, 50, 100, 101, 150, 200]) {
    const e = epoch - 1;
    close(
      learningRateAt(epoch, o),
      2e-4 * (1 - Math.max(0, e + 1 - 100) / 101),
    );
  }
  close(learningRateAt(100, o), 2e-4);
  close(learningRateAt(101, o), 2e-4 * (1 - 1 / 101));
  close(learningRateAt(200, o), 2e-4 / 101);
  close(linearLambda(0, 100, 100), 1);
  close(linearLambda(199, 100, 100), 1 / 101);
  // Resuming with epoch_count 150 (the reference's way) gives the same rate.
  close(linearLambda(0, 100, 100, 150) * 2e-4, learningRateAt(150, o));
  // No decay epochs: constant.
  const s = learningRateSchedule({ lr: 1, epochs: 3, epochsDecay: 0 });
  assert.deepEqual([1, 2, 3].map(s), [1, 1, 1]);
});

Deno.test("step and cosine match PyTorch StepLR and CosineAnnealingLR", () => {
  const step = { policy: "step" as const, lr: 1, stepSize: 50, gamma: 0.1 };
  close(learningRateAt(1, step), 1);
  close(learningRateAt(50, step), 1);
  close(learningRateAt(51, step), 0.1);
  close(learningRateAt(101, step), 0.1 * 0.1);
  const cos = { policy: "cosine" as const, lr: 2, epochs: 10 };
  close(learningRateAt(1, cos), 2);
  close(learningRateAt(6, cos), 1);
  close(learningRateAt(11, cos), 0);
  close(learningRateAt(3, cos), 1 + Math.cos(Math.PI * 2 / 10));
});

Deno.test("plateau matches PyTorch ReduceLROnPlateau stepped with the reference's constant metric 0", () => {
  // The learning rates of epochs 1..25, printed by torch 1.13's
  // ReduceLROnPlateau(mode="min", factor=0.2, threshold=0.01, patience=5)
  // with step(0) at the end of each epoch.
  const torch = [
    ...Array(7).fill(1),
    ...Array(6).fill(0.2),
    ...Array(6).fill(0.04),
    ...Array(6).fill(0.008),
  ];
  torch.forEach((want, i) =>
    close(learningRateAt(i + 1, { policy: "plateau", lr: 1 }), want)
  );
});

Deno.test("schedule errors name the option and value", () => {
  assert.throws(
    () => learningRateAt(0),
    /epoch must be an integer ≥ 1, received 0/,
  );
  assert.throws(
    () => learningRateAt(1, { policy: "exponential" as "step" }),
    /policy must be one of linear, step, plateau, cosine, received "exponential"/,
  );
  assert.throws(() => learningRateSchedule({ lr: -1 }), /lr must be/);
  assert.throws(
    () => learningRateAt(1, { policy: "step", stepSize: 0 }),
    /stepSize/,
  );
});
