// Issue 8, training half: earlier runs are never lost, impossible
// configurations are refused, damaged checkpoints and full disks are named,
// and what a kill -9 leaves behind is cleaned. Every hostile file is made here.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  networkConfigs,
  resolveTrainOptions,
  saveCheckpoint,
  train,
  type TrainOptions,
} from "./mod.ts";

await tf.setBackend("cpu");

const TINY: TrainOptions = {
  count: 3,
  heldOut: 1,
  sampleRows: 1,
  size: 32,
  depth: 5,
  ngf: 2,
  ndf: 2,
  epochs: 1,
  epochsDecay: 1,
  saveEvery: 1,
};

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("an earlier run survives bad data, is refused without --resume or --force, and --force replaces only p2p's files", async () => {
  const root = await Deno.makeTempDir();
  try {
    const out = `${root}/run`;
    await train({ ...TINY, out });
    const before = await names(out);
    const log = await Deno.readTextFile(`${out}/log.jsonl`);
    await Deno.writeTextFile(`${out}/notes.txt`, "mine");

    // Bad data: the data is checked before the folder is touched.
    await Deno.mkdir(`${root}/bad/train`, { recursive: true });
    await Deno.writeTextFile(`${root}/bad/train/1.png`, "not a png");
    await assert.rejects(
      () => train({ ...TINY, data: `${root}/bad`, out, force: true }),
    );
    assert.deepEqual(await names(out), [...before, "notes.txt"].sort());
    assert.equal(await Deno.readTextFile(`${out}/log.jsonl`), log);

    // Good options, no --resume or --force: refused, saying which.
    await assert.rejects(
      () => train({ ...TINY, out }),
      /holds an earlier run .*--resume.*--force/,
    );
    assert.equal(await Deno.readTextFile(`${out}/log.jsonl`), log);

    // --force: the new run replaces the old one, the user's file stays.
    assert.ok((await names(`${out}/samples`)).includes("epoch_2_step_6.png"));
    const r = await train({
      ...TINY,
      epochs: 1,
      epochsDecay: 0,
      out,
      force: true,
    });
    assert.equal(r.status, "completed");
    assert.equal(await Deno.readTextFile(`${out}/notes.txt`), "mine");
    const lines = (await Deno.readTextFile(`${out}/log.jsonl`)).trim().split(
      "\n",
    );
    assert.equal(lines.length, 3, "only the new run's steps are logged");
    assert.ok(!(await names(`${out}/checkpoints`)).includes("epoch_2"));
    assert.deepEqual(await names(`${out}/samples`), ["epoch_1_step_3.png"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a PatchGAN with no output patch is refused, naming size, depth, layers and the smallest size that works", async () => {
  const o = resolveTrainOptions({ size: 16, depth: 4, ngf: 2, ndf: 2 });
  assert.throws(
    () => networkConfigs(o),
    /no patch at size 16: with 3 discriminator layers its output is 0×0.*depth 4.*smallest size that works is 32/,
  );
  const root = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => train({ ...TINY, size: 16, depth: 4, out: `${root}/run` }),
      /no patch at size 16/,
    );
    assert.deepEqual(await names(root), [], "nothing was written");
    // Fewer layers make it work.
    assert.doesNotThrow(() =>
      networkConfigs(
        resolveTrainOptions({
          size: 16,
          depth: 4,
          discriminator: "n_layers",
          discriminatorLayers: 2,
        }),
      )
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("--resume names a truncated optimizer.bin; a full disk names the checkpoint and keeps the previous one", async () => {
  const root = await Deno.makeTempDir();
  try {
    const out = `${root}/run`;
    await train({ ...TINY, out, maxSteps: 2 });
    const bin = `${out}/checkpoints/latest/optimizer.bin`;
    const full = await Deno.readFile(bin);
    await Deno.writeFile(bin, full.subarray(0, 1000));
    await assert.rejects(
      () => train({ out, resume: true }),
      /optimizer\.bin' is truncated: expected \d+ bytes .* found 1000/,
    );
    await Deno.writeFile(bin, full);

    // The disk fills up while the weights of the next checkpoint are written.
    const config = await Deno.readTextFile(
      `${out}/checkpoints/latest/config.json`,
    );
    const open = Deno.open;
    (Deno as { open: typeof Deno.open }).open = (path, options) => {
      if (String(path).includes("weights.bin")) {
        return Promise.reject(
          new Error("No space left on device (os error 28)"),
        );
      }
      return open(path, options);
    };
    try {
      await assert.rejects(
        () => train({ out, resume: true, maxSteps: 3 }),
        /cannot save checkpoint '.*checkpoints\/latest': .*disk is full.*the previous checkpoint '.*checkpoints\/latest' is intact/,
      );
    } finally {
      (Deno as { open: typeof Deno.open }).open = open;
    }
    assert.equal(
      await Deno.readTextFile(`${out}/checkpoints/latest/config.json`),
      config,
    );
    assert.deepEqual(await names(`${out}/checkpoints`), ["latest"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("after a kill -9 during a checkpoint save the temporaries are cleaned and the interrupted epoch_N is written", async () => {
  const root = await Deno.makeTempDir();
  try {
    const out = `${root}/run`;
    // Epoch 1 ends at step 3; `latest` is saved, then the kill hits epoch_1's save.
    await train({ ...TINY, out, maxSteps: 3 });
    const ckpts = `${out}/checkpoints`;
    await Deno.remove(`${ckpts}/epoch_1`, { recursive: true });
    await Deno.mkdir(`${ckpts}/epoch_1.p2p-tmp-deadbeef/generator`, {
      recursive: true,
    });
    await Deno.writeTextFile(
      `${ckpts}/epoch_1.p2p-tmp-deadbeef/generator/model.json`,
      "{",
    );
    await Deno.mkdir(`${ckpts}/latest.tmp-0badf00d`); // an older p2p's temporary
    await Deno.writeTextFile(`${out}/index.html.p2p-tmp-12345678`, "<html");
    const messages: string[] = [];
    const r = await train({ out, resume: true }, {
      onMessage: (m) => messages.push(m),
    });
    assert.equal(r.status, "completed");
    assert.deepEqual(await names(ckpts), ["epoch_1", "epoch_2", "latest"]);
    assert.ok(!(await names(out)).some((n) => n.includes("tmp")));
    assert.ok(
      messages.some((m) =>
        /saved .*epoch_1 \(its save had been interrupted\)/.test(m)
      ),
    );
    const e1 = JSON.parse(
      await Deno.readTextFile(`${ckpts}/epoch_1/config.json`),
    );
    assert.equal(e1.step, 3);
    assert.equal(e1.epoch, 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("saveCheckpoint cleans its own unfinished temporaries", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/latest.p2p-tmp-00000000`);
    const { buildGenerator, preset } = await import("@p2p/models");
    const p = preset("reference", { size: 32, depth: 5, ngf: 2, ndf: 2 });
    const g = buildGenerator(p.generator);
    await saveCheckpoint(`${root}/latest`, {
      generator: g,
      generatorConfig: p.generator,
      data: { direction: "AtoB", inChannels: 3, outChannels: 3, size: 32 },
    });
    g.dispose();
    assert.deepEqual(await names(root), ["latest"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
