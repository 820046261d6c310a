import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "@p2p/backend";
import {
  loadCheckpoint,
  type LogRecord,
  NonFiniteLossError,
  train,
  type TrainOptions,
} from "./mod.ts";

await selectBackend({ backend: "cpu", log: null });

// depth 6 at 64 with ngf 2: dropout is active, so its state must resume too;
// batch 2 over 7 pairs leaves a partial last batch.
const TINY: TrainOptions = {
  dataset: "facades",
  count: 7,
  heldOut: 2,
  sampleRows: 2,
  size: 64,
  depth: 6,
  ngf: 2,
  ndf: 2,
  batch: 2,
  epochs: 1,
  epochsDecay: 1,
  seed: 3,
};

async function weightsAndMoments(out: string) {
  const c = await loadCheckpoint(`${out}/checkpoints/latest`);
  const read = (m: tf.LayersModel) =>
    m.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]);
  const moments = (
    s: { m: Map<string, tf.Tensor>; v: Map<string, tf.Tensor> },
  ) =>
    [...s.m.entries(), ...s.v.entries()].map((
      [k, t],
    ) => [k, Array.from(t.dataSync())]);
  const result = {
    g: read(c.generator),
    d: read(c.discriminator!),
    optG: moments(c.optimizer!.generator),
    optD: moments(c.optimizer!.discriminator),
    iterations: [
      c.optimizer!.generator.iterations,
      c.optimizer!.discriminator.iterations,
    ],
    rng: c.config.rng,
    dropout: c.config.dropout,
    step: c.config.step,
  };
  c.generator.dispose();
  c.discriminator!.dispose();
  return result;
}

async function readLog(out: string): Promise<LogRecord[]> {
  return (await Deno.readTextFile(`${out}/log.jsonl`)).trim().split("\n").map((
    l,
  ) => JSON.parse(l));
}

Deno.test("resume: a run stopped mid-epoch and at an epoch end ends with the same weights as an uninterrupted one", async () => {
  const root = await Deno.makeTempDir();
  const a = await train({ ...TINY, out: `${root}/a`, displayEvery: 1000 });
  assert.equal(a.status, "completed");
  assert.equal(a.totalSteps, 8);
  assert.equal(a.step, 8);

  // Samples every step must not disturb training (paper-mode inference is state-preserving).
  const b1 = await train({
    ...TINY,
    out: `${root}/b`,
    displayEvery: 1,
    maxSteps: 3,
  });
  assert.equal(b1.status, "stopped");
  assert.equal(b1.step, 3);
  assert.equal(b1.evaluation, null);
  const b2 = await train({ out: `${root}/b`, resume: true, maxSteps: 4 });
  assert.equal(b2.status, "stopped");
  assert.equal(b2.step, 4);
  const b3 = await train({ out: `${root}/b`, resume: true });
  assert.equal(b3.status, "completed");
  assert.equal(b3.step, 8);

  const wa = await weightsAndMoments(`${root}/a`);
  const wb = await weightsAndMoments(`${root}/b`);
  assert.deepEqual(wb, wa);
  const strip = (r: LogRecord) => ({ ...r, time: 0 });
  assert.deepEqual(
    (await readLog(`${root}/b`)).map(strip),
    (await readLog(`${root}/a`)).map(strip),
  );
  assert.deepEqual(b3.evaluation, a.evaluation);

  // Resuming with an architecture flag that differs is refused, naming it.
  await assert.rejects(
    () => train({ out: `${root}/b`, resume: true, ngf: 4 }),
    /ngf 4 differs from the run being resumed .* has 2/,
  );
  await assert.rejects(
    () => train({ out: `${root}/none`, resume: true }),
    /--resume: cannot read .*none\/checkpoints\/latest/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("a NaN loss stops training with the loss and step named and keeps the last good checkpoint", async () => {
  const root = await Deno.makeTempDir();
  let generator: tf.LayersModel | undefined;
  const error = await train({ ...TINY, out: root, displayEvery: 2 }, {
    onStart: (s) => generator = s.generator,
    onStep: (p) => {
      if (p.step === 3) {
        const layer = generator!.getLayer("e1_conv");
        const [kernel, ...rest] = layer.getWeights();
        layer.setWeights([tf.fill(kernel.shape, NaN), ...rest]);
      }
    },
  }).then(() => null, (e) => e);
  assert.ok(error instanceof NonFiniteLossError, String(error));
  assert.equal(error.step, 4);
  assert.match(
    error.message,
    /loss \w+ is NaN at step 4 \(epoch 1\): training stopped/,
  );
  assert.match(error.message, /checkpoints\/latest \(step 2\), is kept/);
  const c = await loadCheckpoint(`${root}/checkpoints/latest`);
  assert.equal(c.config.step, 2);
  for (const w of c.generator.weights) {
    assert.ok(
      w.read().dataSync().every(Number.isFinite),
      `${w.originalName} is not finite`,
    );
  }
  c.generator.dispose();
  c.discriminator?.dispose();
  await Deno.remove(root, { recursive: true });
});
