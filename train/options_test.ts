import assert from "node:assert/strict";
import {
  resolveTrainOptions,
  RESUMABLE_OVERRIDES,
  resumeOptions,
  TRAIN_DEFAULTS,
  TRAIN_OPTIONS,
} from "./mod.ts";

Deno.test("options: defaults, resume rules and validation all come from the one table", () => {
  for (const [name, spec] of Object.entries(TRAIN_OPTIONS)) {
    assert.equal(
      TRAIN_DEFAULTS[name as keyof typeof TRAIN_DEFAULTS],
      spec.default,
      name,
    );
    assert.equal(
      RESUMABLE_OVERRIDES.includes(name as keyof typeof TRAIN_OPTIONS),
      "resumable" in spec && spec.resumable === true,
      name,
    );
  }
  assert.throws(
    () => resolveTrainOptions({ ngf: 0 }),
    /ngf must be an integer in 1\.\.1024, received 0/,
  );
  assert.throws(
    () => resolveTrainOptions({ norm: "layer" as "batch" }),
    /norm must be one of batch, instance, none, received "layer"/,
  );
  assert.throws(
    () => resolveTrainOptions({ sise: 3 } as never),
    /unknown training option "sise"/,
  );
  assert.throws(
    () => resolveTrainOptions({ epochs: 0, epochsDecay: 0 }),
    /epochs \+ epochsDecay must be at least 1/,
  );
  assert.equal(
    resolveTrainOptions({ initType: "orthogonal" }).initType,
    "orthogonal",
  );
  assert.throws(
    () => resolveTrainOptions({ initGain: 0 }),
    /initGain must be a number ≥ 0.000001, received 0/,
  );
  const named = resolveTrainOptions({ data: "d", name: "x" });
  assert.equal(named.out, "checkpoints/x");
  assert.equal(resolveTrainOptions({}).out, "runs/facades");
});

Deno.test("resume: resumable options may change, the others must match the run", () => {
  const stored = { ...resolveTrainOptions({ size: 32, depth: 5 }) } as Record<
    string,
    unknown
  >;
  delete stored.out;
  const o = resumeOptions(stored, { epochs: 7, lr: 1e-4 }, "ckpt");
  assert.deepEqual([o.epochs, o.lr, o.size], [7, 1e-4, 32]);
  assert.throws(
    () => resumeOptions(stored, { ngf: 8 }, "ckpt"),
    /ngf 8 differs from the run being resumed \(ckpt has 16\)/,
  );
  // A run stored before the options table (no recipe, no generator) stays a depth-5 U-Net.
  const old = { ...stored };
  delete old.recipe;
  delete old.generator;
  const back = resumeOptions(old, {}, "ckpt");
  assert.deepEqual([back.generator, back.depth], ["unet", 5]);
});
