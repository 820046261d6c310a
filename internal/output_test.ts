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
