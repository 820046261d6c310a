import assert from "node:assert/strict";
import { loadStateDict, openZip, unpickle } from "@p2p/interop";
import {
  concat,
  deepPicklePth,
  expandPth,
  op,
  pickleBombPth,
  pthZip,
  selfReferencePth,
  stateDictPickle,
  zipArchive,
} from "./hostile_files.ts";

Deno.test("a stride-0 expand view (30000×30000 of one float) is refused before allocating", async () => {
  const file = expandPth(30000);
  assert.ok(file.length < 4096);
  await assert.rejects(
    () => loadStateDict(file, "expand.pth"),
    /expand\.pth: tensor of shape \[30000,30000\].*more elements than the storage holds \(1\)/,
  );
});

Deno.test("a view reaching past its storage, or with too few strides, is refused", async () => {
  const past = pthZip(
    stateDictPickle([{
      key: "w",
      storage: "0",
      storageSize: 4,
      shape: [2, 2],
      stride: [2, 1],
      offset: 3,
    }]),
    { "0": 4 },
  );
  await assert.rejects(
    () => loadStateDict(past, "past.pth"),
    /past\.pth: tensor of shape \[2,2\].*past the end of the storage \(4 elements\)/,
  );
  const strides = pthZip(
    stateDictPickle([{
      key: "w",
      storage: "0",
      storageSize: 4,
      shape: [2, 2],
      stride: [2],
    }]),
    { "0": 4 },
  );
  await assert.rejects(
    () => loadStateDict(strides, "strides.pth"),
    /strides\.pth.*1 strides for 2 dimensions/,
  );
  const negative = pthZip(
    stateDictPickle([{
      key: "w",
      storage: "0",
      storageSize: 4,
      shape: [2, -2],
      stride: [2, 1],
    }]),
    { "0": 4 },
  );
  await assert.rejects(
    () => loadStateDict(negative, "neg.pth"),
    /neg\.pth.*tensor size must be a tuple of at most 64 non-negative integers/,
  );
});

Deno.test("many tensors on one storage cannot multiply memory beyond twice the file", async () => {
  const tensors = Array.from({ length: 8 }, (_, i) => ({
    key: `w${i}`,
    storage: "0",
    storageSize: 1024,
    shape: [1024],
    stride: [1],
  }));
  await assert.rejects(
    () =>
      loadStateDict(
        pthZip(stateDictPickle(tensors), { "0": 1024 }),
        "shared.pth",
      ),
    /shared\.pth: the tensors would need more memory than twice/,
  );
  // Two views of one storage (tied weights) still load.
  const sd = await loadStateDict(
    pthZip(stateDictPickle(tensors.slice(0, 2)), { "0": 1024 }),
    "tied.pth",
  );
  assert.equal(sd.size, 2);
});

Deno.test("a 2 GiB deflate bomb in data.pkl is refused from its declared size", async () => {
  const file = pickleBombPth(2048);
  assert.ok(file.length < 4 * 2 ** 20, `${file.length} bytes`);
  await assert.rejects(
    () => loadStateDict(file, "bomb.pth"),
    /bomb\.pth: entry "archive\/data\.pkl" declares 2147483648 bytes once inflated, above the limit of 67108864/,
  );
});

Deno.test("a deflated entry that lies about its size stops one byte past what it declared", async () => {
  const file = pickleBombPth(64, 1000);
  await assert.rejects(
    () => loadStateDict(file, "liar.pth"),
    /liar\.pth: entry "archive\/data\.pkl" inflates to more than the 1000 bytes it declares/,
  );
  const stored = zipArchive([{
    name: "a",
    data: new Uint8Array(10),
    declaredSize: 5,
  }]);
  await assert.rejects(
    () => openZip(stored, "stored.zip").read("a"),
    /stored\.zip: stored entry "a" declares 5 bytes but holds 10/,
  );
});

Deno.test("a 200,000-level pickle gives a message naming the file and the cause", async () => {
  await assert.rejects(
    () => loadStateDict(deepPicklePth(200_000), "deep.pth"),
    (e: Error) =>
      /deep\.pth: the pickle nests lists\/dicts more than 1000 levels deep/
        .test(e.message) && !/call stack/.test(e.message),
  );
});

Deno.test("a self-referencing pickle gives a message naming the file and the cause", async () => {
  await assert.rejects(
    () => loadStateDict(selfReferencePth(), "self.pth"),
    /self\.pth: the pickle holds a list or dict that contains itself/,
  );
});

Deno.test("negative and oversized lengths in a pickle are errors, not loops or allocations", () => {
  // BINSTRING with length -5: would move the reader backwards.
  const negative = concat([
    op.proto,
    [0x54],
    [0xfb, 0xff, 0xff, 0xff],
    op.stop,
  ]);
  assert.throws(
    () => unpickle(negative, { label: "neg.pkl" }),
    /neg\.pkl: negative length -5/,
  );
  // LONG4 of 1 MiB: quadratic to convert; refused.
  const long = concat([
    op.proto,
    [0x8b, 0, 0, 0x10, 0],
    new Uint8Array(2 ** 20),
    op.stop,
  ]);
  assert.throws(
    () => unpickle(long, { label: "long.pkl" }),
    /long\.pkl: an integer of 1048576 bytes/,
  );
  // BINUNICODE claiming 4 GiB in a 12-byte pickle.
  const str = concat([op.proto, [0x58, 0xff, 0xff, 0xff, 0xff], op.stop]);
  assert.throws(
    () => unpickle(str, { label: "str.pkl" }),
    /str\.pkl: truncated/,
  );
});

Deno.test("APPENDS of 300,000 items does not overflow the stack", () => {
  const n = 300_000;
  const body = new Uint8Array(n).fill(0x4e); // NONE × n
  const p = concat([op.proto, [0x5d, 0x28], body, [0x65], op.stop]);
  const { value } = unpickle(p);
  assert.equal((value as unknown[]).length, n);
});

Deno.test("zip names with path traversal are only keys: nothing is written, the pickle is still found", async () => {
  const file = zipArchive([
    { name: "../../evil/data.pkl", data: concat([op.proto, [0x4e], op.stop]) },
  ]);
  // "../../evil/" is not "<name>/": no data.pkl at the archive's top level.
  await assert.rejects(
    () => loadStateDict(file, "evil.pth"),
    /evil\.pth: zip archive without data\.pkl/,
  );
});

Deno.test("a truncated central directory or a header offset past the end names the file", async () => {
  const good = pthZip(stateDictPickle([]), {});
  const cut = good.subarray(0, good.length - 30);
  await assert.rejects(() => loadStateDict(cut, "cut.pth"), /cut\.pth/);
  const bad = good.slice();
  // Point the first central entry's local-header offset past the end.
  const dv = new DataView(bad.buffer);
  const eocd = bad.length - 22;
  const cd = dv.getUint32(eocd + 16, true);
  dv.setUint32(cd + 42, 0x7fffffff, true);
  await assert.rejects(
    () => loadStateDict(bad, "off.pth"),
    /off\.pth: broken local header of "archive\/data\.pkl"/,
  );
});

Deno.test("safetensors: a lying header is refused naming the key, before copying", async () => {
  const { decodeSafetensors } = await import("@p2p/interop");
  const file = (header: unknown, data = 16): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + data);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  const st = (entry: unknown) => file({ w: entry });
  assert.throws(
    () =>
      decodeSafetensors(
        st({ dtype: "F32", shape: [30000, 30000], data_offsets: [0, 16] }),
        "a.st",
      ),
    /a\.st: "w" of shape \[30000,30000\] float32 needs 3600000000 bytes, data_offsets give 16/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        st({ dtype: "F32", shape: [1], data_offsets: [-4, 0] }),
        "b.st",
      ),
    /b\.st: "w" data_offsets must be two non-negative integers/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        st({ dtype: "F32", shape: [3], data_offsets: [0, 12.5] }),
        "c.st",
      ),
    /c\.st: "w" data_offsets must be two non-negative integers/,
  );
  const bad = file({});
  bad[8] = 0x7b;
  bad[9] = 0x7b;
  assert.throws(
    () => decodeSafetensors(bad, "d.st"),
    /d\.st: the header is not valid JSON/,
  );
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
  assert.throws(
    () => decodeSafetensors(huge, "e.st"),
    /e\.st: header length .* exceeds the file \(16 bytes\)/,
  );
});

Deno.test("import CLI: a hostile .pth exits 1 with one line naming the file as typed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/deep.pth`, deepPicklePth(200_000));
    await Deno.writeFile(`${dir}/expand.pth`, expandPth(30000));
    const root = new URL("../", import.meta.url).pathname;
    for (
      const [file, cause] of [
        ["deep.pth", /more than 1000 levels deep/],
        ["expand.pth", /more elements than the storage holds/],
      ] as const
    ) {
      const r = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "cli/import.ts",
          "--pth",
          file,
          "--net",
          "unet",
          "--out",
          "ckpt",
        ],
        cwd: root,
        env: { INIT_CWD: dir, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 1, err);
      assert.ok(err.startsWith(`error: ${file}: `), err);
      assert.match(err, cause);
      assert.ok(!err.includes(dir) && !/call stack/.test(err), err);
    }
    assert.equal(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort().join(","),
      "deep.pth,expand.pth",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
