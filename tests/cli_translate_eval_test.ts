// `deno task translate` and `deno task eval` end to end on a small checkpoint.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "@p2p/backend";
import { unet } from "@p2p/models";
import { saveCheckpoint } from "@p2p/train";
import { createPixels, readImage, writeDataset, writeImage } from "@p2p/data";
import { runCli } from "./run_cli.ts";

async function run(
  script: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  return await runCli(`cli/${script}`, args);
}

async function checkpoint(
  dir: string,
  inChannels: number,
  outChannels: number,
): Promise<string> {
  await selectBackend({ backend: "cpu", log: null });
  const config = {
    kind: "unet" as const,
    depth: 5,
    ngf: 2,
    inChannels,
    outChannels,
    seed: 4,
  };
  const g = unet(config);
  await saveCheckpoint(`${dir}/ckpt`, {
    generator: g,
    generatorConfig: config,
    data: { direction: "AtoB", inChannels, outChannels, size: 32 },
  });
  g.dispose();
  return `${dir}/ckpt`;
}

Deno.test("translate: a file of any size and a folder; grey as the checkpoint says", async () => {
  const dir = await Deno.makeTempDir();
  const ckpt = await checkpoint(dir, 1, 1);
  const img = createPixels(50, 37, 3);
  img.data.forEach((_, i) => (img.data[i] = (i * 7) % 256));
  await writeImage(`${dir}/in/a.png`, img);
  await writeImage(`${dir}/in/b.png`, createPixels(20, 64, 3));
  await Deno.writeTextFile(`${dir}/in/notes.txt`, "not an image");
  let r = await run("translate.ts", [
    "--checkpoint",
    ckpt,
    "--input",
    `${dir}/in/a.png`,
    "--output",
    `${dir}/a_out.png`,
    "--backend",
    "cpu",
  ]);
  assert.equal(r.code, 0, r.err);
  const out = await readImage(`${dir}/a_out.png`, { channels: 1 });
  assert.deepEqual([out.width, out.height], [50, 37]);
  r = await run("translate.ts", [
    "--checkpoint",
    ckpt,
    "--input",
    `${dir}/in`,
    "--output",
    `${dir}/out`,
    "--mode",
    "eval",
    "--backend",
    "cpu",
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\[2\/2\]/);
  const b = await readImage(`${dir}/out/b.png`);
  assert.deepEqual([b.width, b.height], [20, 64]);
  // Bad input: named, exit 2.
  r = await run("translate.ts", [
    "--checkpoint",
    ckpt,
    "--input",
    `${dir}/missing.png`,
    "--output",
    `${dir}/x.png`,
  ]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--input .*missing\.png does not exist/);
  r = await run("translate.ts", [
    "--checkpoint",
    ckpt,
    "--input",
    `${dir}/in/notes.txt`,
    "--output",
    `${dir}/x.png`,
  ]);
  assert.equal(r.code, 2);
  assert.match(r.err, /expected a \.png, \.jpg or \.jpeg file/);
  r = await run("translate.ts", ["--input", `${dir}/in`]);
  assert.match(r.err, /--checkpoint is required/);
  r = await run("translate.ts", ["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /--mode VALUE .*\(paper \| eval\) \[default: paper\]/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("eval: L1, PSNR and SSIM over a split, as a table and JSON beside the checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  const ckpt = await checkpoint(dir, 3, 3);
  await writeDataset("facades", `${dir}/data`, {
    count: 10,
    size: 32,
    seed: 1,
  });
  const r = await run("eval.ts", [
    "--checkpoint",
    ckpt,
    "--data",
    `${dir}/data`,
    "--backend",
    "cpu",
    "--mode",
    "eval",
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /mean\s+\d\.\d{4}\s+\d+\.\d{2}\s+-?\d\.\d{4}/);
  const scores = JSON.parse(
    await Deno.readTextFile(`${dir}/eval_ckpt_test.json`),
  );
  assert.equal(scores.images.length, 1);
  for (const k of ["l1", "psnr", "ssim"]) {
    assert.ok(Number.isFinite(scores.mean[k]), k);
  }
  const args = [
    "--checkpoint",
    ckpt,
    "--data",
    `${dir}/data`,
    "--backend",
    "cpu",
  ];
  // An earlier p2p eval file is replaced; the user's own file is not, unless --force.
  assert.equal((await run("eval.ts", args)).code, 0);
  await Deno.writeTextFile(`${dir}/mine.json`, "the user's notes");
  const refused = await run("eval.ts", [...args, "--json", `${dir}/mine.json`]);
  assert.equal(refused.code, 2, refused.err);
  assert.match(
    refused.err,
    /--json .*mine\.json already exists and is not a p2p eval file; pass --force/,
  );
  assert.equal(await Deno.readTextFile(`${dir}/mine.json`), "the user's notes");
  const forced = await run("eval.ts", [
    ...args,
    "--json",
    `${dir}/mine.json`,
    "--force",
  ]);
  assert.equal(forced.code, 0, forced.err);
  assert.ok(JSON.parse(await Deno.readTextFile(`${dir}/mine.json`)).mean);
  const bad = await run("eval.ts", [
    "--checkpoint",
    ckpt,
    "--data",
    `${dir}/nothing`,
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /nothing/);
  tf.disposeVariables();
  await Deno.remove(dir, { recursive: true });
});
