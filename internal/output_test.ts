import assert from "node:assert/strict";
import {
  ARTEFACT_MARKER,
  checkOutputDir,
  checkOutputFile,
  OutputRefusedError,
  writeArtefactDir,
} from "./output.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("writeArtefactDir writes a new folder with its marker", async () => {
  const root = await Deno.makeTempDir();
  await writeArtefactDir(`${root}/m`, "tfjs model", {
    "model.json": bytes("{}"),
    "w/a.bin": bytes("x"),
  });
  const names = [...Deno.readDirSync(`${root}/m`)].map((e) => e.name).sort();
  assert.deepEqual(names, [ARTEFACT_MARKER, "model.json", "w"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeArtefactDir refuses a user's folder and a file, deleting nothing", async () => {
  const root = await Deno.makeTempDir();
  await Deno.writeTextFile(`${root}/notes.txt`, "mine");
  await assert.rejects(
    () =>
      writeArtefactDir(root, "tfjs model", { "a": bytes("1") }, {
        force: true,
      }),
    (e: Error) =>
      e instanceof OutputRefusedError && e.message.includes("notes.txt") &&
      e.message.includes(root),
  );
  assert.equal(await Deno.readTextFile(`${root}/notes.txt`), "mine");
  await assert.rejects(
    () =>
      writeArtefactDir(`${root}/notes.txt`, "tfjs model", {}, { force: true }),
    /is a file/,
  );
  assert.equal(await Deno.readTextFile(`${root}/notes.txt`), "mine");
  assert.equal([...Deno.readDirSync(root)].length, 1);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a previous artefact of the same kind is replaced only with force", async () => {
  const root = await Deno.makeTempDir();
  const out = `${root}/m`;
  await writeArtefactDir(out, "checkpoint", { "a": bytes("1") });
  await assert.rejects(
    () => writeArtefactDir(out, "checkpoint", { "b": bytes("2") }),
    /--force/,
  );
  await assert.rejects(
    () => checkOutputDir(out, "tfjs model", { force: true }),
    /holds a p2p checkpoint/,
  );
  await writeArtefactDir(out, "checkpoint", { "b": bytes("2") }, {
    force: true,
  });
  const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
  assert.deepEqual(names, [ARTEFACT_MARKER, "b"]);
  assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["m"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("checkOutputFile refuses an existing file without force and a folder always", async () => {
  const root = await Deno.makeTempDir();
  await checkOutputFile(`${root}/new.bin`);
  await Deno.writeTextFile(`${root}/x.bin`, "1");
  await assert.rejects(
    () => checkOutputFile(`${root}/x.bin`),
    /already exists/,
  );
  await checkOutputFile(`${root}/x.bin`, { force: true });
  await assert.rejects(
    () => checkOutputFile(root, { force: true }),
    /is a folder/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("recognise counts an unmarked folder as a previous artefact of the kind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/ckpt`);
    await Deno.writeTextFile(`${dir}/ckpt/config.json`, '{"format":"x"}');
    const recognise = async (d: string) =>
      JSON.parse(await Deno.readTextFile(`${d}/config.json`)).format === "x";
    await assert.rejects(
      () => checkOutputDir(`${dir}/ckpt`, "thing", { recognise }),
      /holds a previous thing; pass --force/,
    );
    assert.equal(
      await checkOutputDir(`${dir}/ckpt`, "thing", { recognise, force: true }),
      "previous",
    );
    await assert.rejects(
      () => checkOutputDir(`${dir}/ckpt`, "thing", { force: true }),
      /non-empty folder that p2p did not write \(it holds config\.json\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
