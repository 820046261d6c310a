import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { disposeOptimizerState, loadCheckpoint, train } from "./mod.ts";

await tf.setBackend("cpu");

const FIXTURE = new URL("./testdata/run_v1/", import.meta.url).pathname;

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    await Deno.readFile(path),
  );
  return Array.from(new Uint8Array(digest))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(`${from}/${e.name}`, `${to}/${e.name}`);
    else await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

Deno.test("a checkpoint written before the train/ redesign loads and resumes to the original code's exact weights", async () => {
  const expected = JSON.parse(
    await Deno.readTextFile(`${FIXTURE}/EXPECTED.json`),
  );
  const root = await Deno.makeTempDir();
  try {
    const out = `${root}/run`;
    await copyDir(FIXTURE, out);
    const loaded = await loadCheckpoint(`${out}/checkpoints/latest`);
    assert.equal(loaded.config.step, 4);
    assert.ok(loaded.discriminator && loaded.optimizer);
    loaded.generator.dispose();
    loaded.discriminator!.dispose();
    disposeOptimizerState(loaded.optimizer);

    const saved: (string | number)[] = [];
    const result = await train({ out, resume: true }, {
      onCheckpoint: (c) => {
        saved.push(c.label);
      },
    });
    assert.deepEqual(saved, ["latest", 2], "the hook sees every checkpoint");
    assert.equal(result.status, "completed");
    assert.equal(result.step, expected.finalStep);
    const latest = `${out}/checkpoints/latest`;
    assert.equal(
      await sha256(`${latest}/generator/weights.bin`),
      expected.generatorWeightsSha256,
    );
    assert.equal(
      await sha256(`${latest}/discriminator/weights.bin`),
      expected.discriminatorWeightsSha256,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
