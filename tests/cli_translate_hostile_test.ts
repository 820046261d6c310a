/**
 * `translate` on hostile folders and relative paths: unreadable images are
 * reported and skipped; huge ones are refused from their header; relative
 * paths resolve against the folder the command was typed in (INIT_CWD) and
 * are printed as typed.
 */
import assert from "node:assert/strict";
import { selectBackend } from "@p2p/backend";
import { unet } from "@p2p/models";
import { saveCheckpoint } from "@p2p/train";
import { createPixels, readImage, writeImage } from "@p2p/data";
import { hugePng } from "./hostile_files.ts";
import { runCli } from "./run_cli.ts";

const root = new URL("..", import.meta.url).pathname;

async function translate(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return await runCli("cli/translate.ts", [...args, "--backend", "cpu"], {
    cwd: root,
    env,
  });
}

async function checkpoint(dir: string): Promise<string> {
  await selectBackend({ backend: "cpu", log: null });
  const config = { kind: "unet" as const, depth: 5, ngf: 2, seed: 4 };
  const g = unet(config);
  await saveCheckpoint(`${dir}/ckpt`, {
    generator: g,
    generatorConfig: config,
    data: { direction: "AtoB", inChannels: 3, outChannels: 3, size: 32 },
  });
  g.dispose();
  return `${dir}/ckpt`;
}

Deno.test("translate folder: unreadable images are reported, the others written, then N written, M failed and exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await checkpoint(dir);
    await writeImage(`${dir}/in/a.png`, createPixels(32, 32, 3));
    await Deno.writeFile(`${dir}/in/b.png`, new Uint8Array([1, 2, 3]));
    await Deno.writeFile(`${dir}/in/c.png`, hugePng(30000, 30000));
    await writeImage(`${dir}/in/d.png`, createPixels(40, 24, 3));
    const r = await translate([
      "--checkpoint",
      ckpt,
      "--input",
      `${dir}/in`,
      "--output",
      `${dir}/out`,
    ]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.err, /\[2\/4\] failed: cannot read image '.*b\.png'/);
    assert.match(r.err, /\[3\/4\] failed: image '.*c\.png' is 30000×30000/);
    assert.match(r.out, /2 written, 2 failed/);
    assert.match(
      r.err,
      /2 of 4 images could not be translated: b\.png, c\.png/,
    );
    assert.equal((await readImage(`${dir}/out/a.png`)).width, 32);
    assert.equal((await readImage(`${dir}/out/d.png`)).width, 40);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("translate: relative paths resolve against INIT_CWD and messages print them as typed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await checkpoint(dir);
    await writeImage(`${dir}/photo.png`, createPixels(32, 32, 3));
    // Run in the repository root, as `deno task` does, typed in `dir`.
    let r = await translate(
      ["--checkpoint", "ckpt", "--input", "photo.png", "--output", "o.png"],
      { INIT_CWD: dir },
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^photo\.png -> o\.png \(32×32/m);
    assert.equal((await readImage(`${dir}/o.png`)).height, 32);
    r = await translate(
      ["--checkpoint", "ckpt", "--input", "missing.png", "--output", "o.png"],
      { INIT_CWD: dir },
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /error: --input missing\.png does not exist/);
    assert.ok(!r.err.includes(dir), r.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("translate never replaces an existing output without --force, and refuses colliding names before any work", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ckpt = await checkpoint(dir);
    await writeImage(`${dir}/in/a.png`, createPixels(32, 32, 3));
    await writeImage(`${dir}/in/b.png`, createPixels(32, 32, 3));
    await Deno.mkdir(`${dir}/out`);
    await Deno.writeTextFile(`${dir}/out/b.png`, "the user's own file");
    await Deno.writeTextFile(`${dir}/mine.png`, "the user's own file");
    const one = await translate([
      "--checkpoint",
      ckpt,
      "--input",
      `${dir}/in/a.png`,
      "--output",
      `${dir}/mine.png`,
    ]);
    assert.notEqual(one.code, 0, one.out + one.err);
    assert.match(one.err, /--output .*mine\.png already exists; pass --force/);
    const folder = await translate([
      "--checkpoint",
      ckpt,
      "--input",
      `${dir}/in`,
      "--output",
      `${dir}/out`,
    ]);
    assert.equal(folder.code, 2, folder.out + folder.err);
    assert.match(folder.err, /already holds 1 of the output files \(b\.png\)/);
    assert.equal(
      await Deno.readTextFile(`${dir}/out/b.png`),
      "the user's own file",
    );
    assert.equal(
      await Deno.readTextFile(`${dir}/mine.png`),
      "the user's own file",
    );
    assert.equal([...Deno.readDirSync(`${dir}/out`)].length, 1); // nothing written
    await Deno.writeTextFile(`${dir}/in/a.jpg`, "x");
    const clash = await translate([
      "--checkpoint",
      ckpt,
      "--input",
      `${dir}/in`,
      "--output",
      `${dir}/out2`,
    ]);
    assert.equal(clash.code, 2, clash.out + clash.err);
    assert.match(clash.err, /would write the same output: a\.png/);
    await Deno.remove(`${dir}/in/a.jpg`);
    const forced = await translate([
      "--checkpoint",
      ckpt,
      "--input",
      `${dir}/in`,
      "--output",
      `${dir}/out`,
      "--force",
    ]);
    assert.equal(forced.code, 0, forced.out + forced.err);
    assert.equal((await readImage(`${dir}/out/b.png`)).width, 32);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
