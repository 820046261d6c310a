import { strict as assert } from "node:assert";
import { loadStateDict, toFloat32, toStateDict } from "./torch_load.ts";

const DIR = new URL("../tests/fixtures/torch/", import.meta.url);
const read = (name: string): Promise<Uint8Array> =>
  Deno.readFile(new URL(name, DIR));

for (const file of ["misc.pth", "misc_legacy.pth"]) {
  Deno.test(`loadTorch: views, offsets and dtypes (${file})`, async () => {
    const sd = await loadStateDict(await read(file), file);
    assert.deepEqual([...sd.keys()], [
      "transposed",
      "base",
      "offset_view",
      "half",
      "bfloat16",
      "int64",
    ]);
    const t = sd.get("transposed")!;
    assert.deepEqual(t.shape, [3, 2]);
    // arange(6).reshape(2, 3).t(), gathered to row-major.
    assert.deepEqual([...toFloat32(t)], [0, 3, 1, 4, 2, 5]);
    assert.deepEqual([...toFloat32(sd.get("offset_view")!)], [3, 4, 5, 6]);
    assert.deepEqual([...toFloat32(sd.get("base")!)], [
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
    assert.equal(sd.get("half")!.dtype, "float16");
    assert.deepEqual([...toFloat32(sd.get("half")!)], [0.5, -2, 65504]);
    assert.deepEqual([...toFloat32(sd.get("bfloat16")!)], [1, -3.5]);
    const i = sd.get("int64")!;
    assert.equal(i.dtype, "int64");
    assert.deepEqual(i.shape, [2, 2]);
    assert.deepEqual([...i.data], [1n, -2n, 3n, 2n ** 40n]);
  });
}

Deno.test("loadTorch: zip and legacy files of the same net agree", async () => {
  const a = await loadStateDict(await read("basic_bn.pth"));
  const b = await loadStateDict(await read("basic_bn_legacy.pth"));
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, t] of a) {
    assert.deepEqual(b.get(k)!.shape, t.shape, k);
    assert.deepEqual(b.get(k)!.data, t.data, k);
  }
  const counter = a.get("model.3.num_batches_tracked")!;
  assert.equal(counter.dtype, "int64");
  assert.deepEqual(counter.shape, []);
  assert.equal(counter.data[0], 1234n);
});

Deno.test("toStateDict: strips module. prefixes, unwraps {state_dict}, rejects non-tensors", () => {
  const t = { dtype: "float32" as const, shape: [1], data: Float32Array.of(1) };
  const ddp = new Map([["module.a.weight", t], ["module.b.bias", t]]);
  assert.deepEqual([...toStateDict(ddp).keys()], ["a.weight", "b.bias"]);
  const wrapped = new Map<string, unknown>([["state_dict", ddp], ["epoch", 3]]);
  assert.deepEqual([...toStateDict(wrapped).keys()], ["a.weight", "b.bias"]);
  assert.throws(
    () =>
      toStateDict(new Map<string, unknown>([["a", t], ["epoch", 3]]), "ck.pth"),
    /ck\.pth: entries that are not tensors: epoch/,
  );
  assert.throws(
    () => toStateDict([t], "x.pth"),
    /x\.pth: expected a state dict/,
  );
});

Deno.test("loadTorch: non-torch bytes are a clear error", async () => {
  await assert.rejects(
    () => loadStateDict(new TextEncoder().encode("hello world"), "notes.txt"),
    /notes\.txt: neither a zip archive nor a legacy torch\.save file/,
  );
});
