import assert from "node:assert/strict";
import {
  exists,
  removeStaleTemporaries,
  tempPathFor,
  writeFailure,
  writeFileAtomic,
  writeNewFileSynced,
} from "./fs.ts";

Deno.test("writeFileAtomic replaces the file whole and leaves no temporary", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/a.bin`;
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  await writeFileAtomic(path, new Uint8Array([4, 5]));
  assert.deepEqual(await Deno.readFile(path), new Uint8Array([4, 5]));
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.bin"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeFileAtomic names the path on failure", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(
    () => writeFileAtomic(`${dir}/missing/x.bin`, new Uint8Array(1)),
    (e: Error) => e.message.includes(`${dir}/missing/x.bin`),
  );
  const full = writeFailure(
    "ckpt/x",
    new Error("No space left on device (os error 28)"),
  );
  assert.match(full, /ckpt\/x.*disk is full.*intact/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("removeStaleTemporaries removes only p2p temporaries", async () => {
  const dir = await Deno.makeTempDir();
  const stale = tempPathFor(`${dir}/epoch_3`);
  await Deno.mkdir(stale);
  await Deno.writeFile(`${stale}/x`, new Uint8Array(1));
  await Deno.writeTextFile(`${dir}/keep.tmp`, "user file");
  const removed = await removeStaleTemporaries(dir);
  assert.equal(removed.length, 1);
  assert.equal(await exists(stale), false);
  assert.equal(await exists(`${dir}/keep.tmp`), true);
  assert.deepEqual(await removeStaleTemporaries(`${dir}/none`), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeNewFileSynced writes a new file and refuses an existing one, naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeNewFileSynced(`${dir}/a.bin`, new Uint8Array([1, 2, 3]));
    assert.deepEqual(Array.from(await Deno.readFile(`${dir}/a.bin`)), [
      1,
      2,
      3,
    ]);
    await assert.rejects(
      () => writeNewFileSynced(`${dir}/a.bin`, new Uint8Array([9])),
      /cannot write '.*a\.bin'/,
    );
    assert.deepEqual(Array.from(await Deno.readFile(`${dir}/a.bin`)), [
      1,
      2,
      3,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
