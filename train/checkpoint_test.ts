import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { buildDiscriminator, buildGenerator, preset } from "@p2p/models";
import { createRng } from "@p2p/data";
import {
  type CheckpointState,
  createTrainer,
  disposeOptimizerState,
  loadCheckpoint,
  loadGenerator,
  restoreOptimizerState,
  saveCheckpoint,
  type Trainer,
} from "./mod.ts";

tf.enableProdMode();
await tf.setBackend("cpu");

// depth 6 at 64: one decoder block has dropout, so SeededDropout is exercised.
const P = preset("reference", { size: 64, depth: 6, ngf: 2, ndf: 2, seed: 2 });
const DATA = {
  direction: "AtoB" as const,
  inChannels: 3,
  outChannels: 3,
  size: 64,
};

function newTrainer(): Trainer {
  return createTrainer(
    buildGenerator(P.generator),
    buildDiscriminator(P.discriminator),
  );
}

const values = (m: tf.LayersModel) =>
  m.weights.map((w) => ({
    name: w.originalName,
    v: Array.from(w.read().dataSync()),
  }));

function stateOf(
  t: Trainer,
  extra: Partial<CheckpointState> = {},
): CheckpointState {
  return {
    generator: t.generator,
    generatorConfig: P.generator,
    discriminator: t.discriminator,
    discriminatorConfig: P.discriminator,
    trainer: t,
    data: DATA,
    ...extra,
  };
}

function pair(seed: number): [tf.Tensor4D, tf.Tensor4D] {
  return [
    tf.randomUniform([1, 64, 64, 3], -1, 1, "float32", seed) as tf.Tensor4D,
    tf.randomUniform([1, 64, 64, 3], -1, 1, "float32", seed + 1) as tf.Tensor4D,
  ];
}

Deno.test("checkpoint round trip: weights, config, and Adam state that continues identically", async () => {
  const dir = await Deno.makeTempDir();
  const t = newTrainer();
  t.dropout.restore({ base: 11, counter: 0 });
  const [x, y] = pair(1);
  await t.step(x, y);
  await t.step(x, y);
  const rng = createRng(5);
  rng.next();
  const dropout = t.dropout.state();
  await saveCheckpoint(
    `${dir}/latest`,
    stateOf(t, {
      epoch: 3,
      step: 2,
      progress: { batchesDone: 2, order: [1, 0, 2] },
      rng: rng.state(),
      dropout,
      train: { lr: 2e-4 },
    }),
  );
  const loaded = await loadCheckpoint(`${dir}/latest`);
  assert.equal(loaded.dir, `${dir}/latest`);
  assert.deepEqual(loaded.config.generator, P.generator);
  assert.deepEqual(loaded.config.discriminator, P.discriminator);
  assert.equal(loaded.config.epoch, 3);
  assert.equal(loaded.config.step, 2);
  assert.deepEqual(loaded.config.progress, {
    batchesDone: 2,
    order: [1, 0, 2],
  });
  assert.deepEqual(loaded.config.rng, rng.state());
  assert.deepEqual(loaded.config.dropout, dropout);
  assert.deepEqual(loaded.config.data, DATA);
  assert.deepEqual(values(loaded.generator), values(t.generator));
  assert.deepEqual(values(loaded.discriminator!), values(t.discriminator));

  const t2 = createTrainer(loaded.generator, loaded.discriminator!, {
    dropout: loaded.config.dropout!,
  });
  await restoreOptimizerState(t2, loaded.optimizer!);
  disposeOptimizerState(loaded.optimizer);
  assert.equal(t2.iterations, 2);
  // One more step on each, from the same dropout state: bit-identical.
  assert.deepEqual(t2.dropout.state(), t.dropout.state());
  await t.step(x, y);
  await t2.step(x, y);
  assert.deepEqual(t2.dropout.state(), t.dropout.state());
  assert.deepEqual(values(t2.generator), values(t.generator));
  assert.deepEqual(values(t2.discriminator), values(t.discriminator));

  const { generator, config } = await loadGenerator(`${dir}/latest`);
  assert.equal(config.step, 2);
  assert.equal(generator.outputs[0].shape[3], 3);
  tf.dispose([x, y]);
  for (
    const m of [
      t.generator,
      t.discriminator,
      t2.generator,
      t2.discriminator,
      generator,
    ]
  ) {
    m.dispose();
  }
  t.dispose();
  t2.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: G's model.json uses plain Dropout and opens with tf.loadLayersModel", async () => {
  const dir = await Deno.makeTempDir();
  const g = buildGenerator(P.generator);
  await saveCheckpoint(`${dir}/c`, {
    generator: g,
    generatorConfig: P.generator,
    data: DATA,
  });
  const modelJson = JSON.parse(
    await Deno.readTextFile(`${dir}/c/generator/model.json`),
  );
  const classes = modelJson.modelTopology.config.layers.map((
    l: { class_name: string },
  ) => l.class_name);
  assert.ok(classes.includes("Dropout"));
  assert.ok(!classes.includes("SeededDropout"));
  assert.deepEqual(modelJson.weightsManifest[0].paths, ["weights.bin"]);
  const weights = await Deno.readFile(`${dir}/c/generator/weights.bin`);
  const plain = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest[0].weights,
    weightData: weights.buffer,
  }));
  const x = tf.randomUniform([1, 64, 64, 3], -1, 1) as tf.Tensor4D;
  const a = g.predict(x) as tf.Tensor;
  const b = plain.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  assert.ok(!(await Deno.stat(`${dir}/c/discriminator`).catch(() => null)));
  tf.dispose([x, a, b]);
  g.dispose();
  plain.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint writes are atomic: a failed write keeps the old one; a crash between renames is recovered", async () => {
  const dir = await Deno.makeTempDir();
  const t = newTrainer();
  await saveCheckpoint(`${dir}/latest`, stateOf(t, { step: 1 }));
  const before = await Deno.readTextFile(`${dir}/latest/config.json`);
  // config.json is written last; a value JSON cannot hold makes that write fail.
  await assert.rejects(
    () =>
      saveCheckpoint(
        `${dir}/latest`,
        stateOf(t, {
          step: 2,
          data: { ...DATA, bad: 1n },
        }),
      ),
    /BigInt/,
  );
  assert.equal(await Deno.readTextFile(`${dir}/latest/config.json`), before);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.deepEqual(names, ["latest"], `left behind: ${names}`);

  // A crash after `latest` was moved aside and before the new one took its place.
  await Deno.rename(`${dir}/latest`, `${dir}/latest.old-deadbeef`);
  const recovered = await loadCheckpoint(`${dir}/latest`);
  assert.equal(recovered.dir, `${dir}/latest.old-deadbeef`);
  assert.equal(recovered.config.step, 1);
  disposeOptimizerState(recovered.optimizer);
  recovered.generator.dispose();
  recovered.discriminator?.dispose();
  await saveCheckpoint(`${dir}/latest`, stateOf(t, { step: 3 }));
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["latest"]);
  assert.equal((await loadGenerator(`${dir}/latest`)).config.step, 3);

  // Clear errors for what is not a checkpoint.
  await assert.rejects(
    () => loadCheckpoint(`${dir}/nothing`),
    /checkpoint '.*nothing' does not exist/,
  );
  await Deno.mkdir(`${dir}/empty`);
  await assert.rejects(
    () => loadCheckpoint(`${dir}/empty`),
    /not a p2p checkpoint: config.json is missing/,
  );
  const bin = await Deno.readFile(`${dir}/latest/generator/weights.bin`);
  await Deno.writeFile(
    `${dir}/latest/generator/weights.bin`,
    bin.subarray(0, 100),
  );
  await assert.rejects(
    () => loadGenerator(`${dir}/latest`),
    /generator\/weights.bin' is truncated: expected \d+ bytes of weights as model.json lists, found 100/,
  );
  t.generator.dispose();
  t.discriminator.dispose();
  t.dispose();
  await Deno.remove(dir, { recursive: true });
});
