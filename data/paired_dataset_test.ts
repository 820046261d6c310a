import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Image } from "imagescript";
import {
  concatHorizontal,
  encodePng,
  imageToTensor,
  type Pixels,
  toChannels,
  writeImage,
} from "./image.ts";
import { pairedDataset, pairedDatasetFromPairs } from "./paired_dataset.ts";
import { createRng } from "./rng.ts";
import { coordImage, makeImage, pixelAt, withTempDir } from "./test_helpers.ts";

const A1 = makeImage(12, 8, (x, y, c) => 10 + x * 20 + y + c);
const B1 = makeImage(12, 8, (x, y, c) => 200 - x * 5 - y * 3 - c);
const A2 = makeImage(12, 8, () => 40);
const B2 = makeImage(12, 8, () => 90);

async function writeAB(path: string, a: Pixels, b: Pixels): Promise<void> {
  await writeImage(path, concatHorizontal([a, b]));
}

async function values(t: tf.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

async function expectTensor(t: tf.Tensor, expected: Pixels): Promise<void> {
  const e = imageToTensor(expected);
  assert.deepEqual(t.shape, e.shape);
  assert.deepEqual(await values(t), await values(e));
}

// Options that keep images untouched (12x8 pairs are multiples of 4: no resize, no crop).
const PLAIN = { preprocess: "none" as const };

Deno.test("AB folder: names sorted, halves split, values in [-1, 1]", async () => {
  await withTempDir(async (dir) => {
    await writeAB(`${dir}/b.png`, A2, B2);
    await writeAB(`${dir}/a.png`, A1, B1);
    await Deno.writeTextFile(`${dir}/notes.txt`, "ignored");
    const ds = await pairedDataset(dir, PLAIN);
    assert.equal(ds.layout, "AB");
    assert.equal(ds.size, 2);
    assert.deepEqual(ds.names, ["a.png", "b.png"]);
    assert.deepEqual(ds.outputSize, [12, 8]);
    const p = await ds.get(0);
    assert.equal(p.name, "a.png");
    await expectTensor(p.input, A1);
    await expectTensor(p.target, B1);
  });
});

Deno.test("A/ and B/ folders: matched by name without extension (PNG and JPEG)", async () => {
  await withTempDir(async (dir) => {
    await writeImage(`${dir}/A/x.png`, A1);
    await writeImage(`${dir}/B/x.png`, B1);
    const jpeg = new Image(12, 8);
    jpeg.fill(Image.rgbToColor(90, 90, 90));
    await writeImage(`${dir}/A/y.png`, A2);
    await Deno.writeFile(`${dir}/B/y.jpg`, await jpeg.encodeJPEG(100));
    const ds = await pairedDataset(dir, PLAIN);
    assert.equal(ds.layout, "A/B");
    assert.deepEqual(ds.names, ["x.png", "y.png"]);
    const p = await ds.get(0);
    await expectTensor(p.input, A1);
    await expectTensor(p.target, B1);
    assert.deepEqual(
      pixelAt(ds.source(1).target, 3, 3).map((v) => Math.abs(v - 90) <= 2),
      [true, true, true],
    );
  });
});

Deno.test("splits: root/<split>/ AB, root/<split>/{A,B}, root/{A,B}/<split>; a missing split is an error", async () => {
  await withTempDir(async (dir) => {
    await writeAB(`${dir}/s1/train/1.png`, A1, B1);
    await writeAB(`${dir}/s1/val/2.png`, A2, B2);
    await writeAB(`${dir}/s1/val/3.png`, A2, B2);
    assert.deepEqual((await pairedDataset(`${dir}/s1`, PLAIN)).names, [
      "1.png",
    ]);
    const val = await pairedDataset(`${dir}/s1`, { ...PLAIN, split: "val" });
    assert.deepEqual(val.names, ["2.png", "3.png"]);
    assert.equal(val.dir, `${dir}/s1/val`);
    await assert.rejects(
      pairedDataset(`${dir}/s1`, { split: "test" }),
      /expected a split folder 'test' in '.*s1', found only 'train\/', 'val\/'/,
    );

    await writeImage(`${dir}/s2/test/A/p.png`, A1);
    await writeImage(`${dir}/s2/test/B/p.png`, B1);
    const s2 = await pairedDataset(`${dir}/s2`, { ...PLAIN, split: "test" });
    assert.equal(s2.layout, "A/B");
    await expectTensor((await s2.get(0)).target, B1);

    await writeImage(`${dir}/s3/A/train/q.png`, A2);
    await writeImage(`${dir}/s3/B/train/q.png`, B2);
    const s3 = await pairedDataset(`${dir}/s3`, PLAIN);
    assert.deepEqual(s3.names, ["q.png"]);
    await assert.rejects(
      pairedDataset(`${dir}/s3`, { split: "val" }),
      /split folder 'val'.*found only 'train\/'/,
    );
  });
});

Deno.test("BtoA swaps A and B; inChannels/outChannels convert to grey", async () => {
  await withTempDir(async (dir) => {
    await writeAB(`${dir}/a.png`, A1, B1);
    const ds = await pairedDataset(dir, {
      ...PLAIN,
      direction: "BtoA",
      inChannels: 1,
    });
    const p = await ds.get(0);
    assert.deepEqual(p.input.shape, [8, 12, 1]);
    await expectTensor(p.input, toChannels(B1, 1));
    await expectTensor(p.target, A1);
    const q = await (await pairedDataset(dir, { ...PLAIN, outChannels: 1 }))
      .get(0);
    await expectTensor(q.input, A1);
    await expectTensor(q.target, toChannels(B1, 1));
  });
});

Deno.test("bad input: unreadable, corrupt, truncated or empty files name the file", async () => {
  await withTempDir(async (dir) => {
    await writeAB(`${dir}/ok.png`, A1, B1);
    await Deno.writeTextFile(`${dir}/text.png`, "not an image at all");
    await Deno.writeFile(`${dir}/empty.jpg`, new Uint8Array(0));
    const png = await encodePng(concatHorizontal([A1, B1]));
    await Deno.writeFile(`${dir}/cut.png`, png.slice(0, png.length - 20));
    const err = await pairedDataset(dir).then(() => null, (e: Error) => e);
    assert.ok(err, "expected an error");
    assert.match(err.message, /3 problems/);
    assert.match(
      err.message,
      /cannot read image '.*text.png': expected a PNG or JPEG file, received 19 bytes/,
    );
    assert.match(
      err.message,
      /cannot read image '.*empty.jpg': expected a PNG or JPEG file, received an empty file/,
    );
    assert.match(err.message, /cannot read image '.*cut.png': truncated PNG/);
    assert.doesNotMatch(err.message, /ok.png/);
  });
});

Deno.test("bad input: an AB image of odd width", async () => {
  await withTempDir(async (dir) => {
    await writeImage(`${dir}/odd.png`, makeImage(9, 4, () => 0));
    await assert.rejects(
      pairedDataset(dir),
      /AB image '.*odd.png' is 9x4: expected an even width \(A is the left half, B the right half\), received 9/,
    );
  });
});

Deno.test("bad input: pair halves of different sizes", async () => {
  await withTempDir(async (dir) => {
    await writeImage(`${dir}/A/p.png`, makeImage(8, 6, () => 0));
    await writeImage(`${dir}/B/p.png`, makeImage(8, 7, () => 0));
    await assert.rejects(
      pairedDataset(dir),
      /pair 'p.png': expected '.*A\/p.png' \(8x6\) and '.*B\/p.png' \(8x7\) to have the same size/,
    );
  });
  assert.throws(
    () =>
      pairedDatasetFromPairs([{
        name: "m",
        a: A1,
        b: makeImage(4, 4, () => 0),
      }]),
    /pair 'm': expected A \(12x8\) and B \(4x4\) to have the same size/,
  );
});

Deno.test("bad input: a folder with no images (and unsupported formats named)", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/readme.txt`, "no images here");
    await assert.rejects(
      pairedDataset(dir),
      /data set '.*': expected PNG or JPEG images \(.png, .jpg, .jpeg\), found none$/,
    );
    await Deno.writeFile(`${dir}/photo.bmp`, new Uint8Array([66, 77]));
    await assert.rejects(
      pairedDataset(dir),
      /found none; found unsupported photo.bmp \(convert them to PNG or JPEG\)/,
    );
    await writeImage(`${dir}/A/x.png`, A1);
    await Deno.mkdir(`${dir}/B`);
    await assert.rejects(
      pairedDataset(dir),
      /data set '.*\/B': expected PNG or JPEG images/,
    );
    await assert.rejects(
      pairedDataset(`${dir}/missing`),
      /data set '.*missing': cannot open the folder/,
    );
  });
});

Deno.test("bad input: A/ and B/ with unmatched names are listed; A/ without B/", async () => {
  await withTempDir(async (dir) => {
    for (const n of ["1", "2", "3"]) await writeImage(`${dir}/A/${n}.png`, A1);
    for (const n of ["2", "3", "4", "5"]) {
      await writeImage(`${dir}/B/${n}.png`, B1);
    }
    await assert.rejects(
      pairedDataset(dir),
      /expected the same file names in A\/ and B\/, but only in '.*A': 1.png; only in '.*B': 4.png, 5.png/,
    );
    await Deno.remove(`${dir}/B`, { recursive: true });
    await assert.rejects(pairedDataset(dir), /has 'A\/' but no 'B\/' folder/);
  });
});

Deno.test("bad input: a channel count that is not 1 or 3; bad options", async () => {
  await withTempDir(async (dir) => {
    await writeAB(`${dir}/a.png`, A1, B1);
    await assert.rejects(
      pairedDataset(dir, { inChannels: 4 as never }),
      /inChannels: expected a channel count of 1 \(grey\) or 3 \(RGB\), received 4/,
    );
    await assert.rejects(
      pairedDataset(dir, { outChannels: 2 as never }),
      /outChannels: expected a channel count of 1 \(grey\) or 3 \(RGB\), received 2/,
    );
    await assert.rejects(
      pairedDataset(dir, { direction: "AB" as never }),
      /direction: expected "AtoB" or "BtoA", received "AB"/,
    );
    await assert.rejects(
      pairedDataset(dir, { preprocess: "crop", cropSize: 16 }),
      /pair 'a.png' is 12x8 \(12x8 after preprocess crop\): expected at least cropSize 16 on each side/,
    );
  });
});

Deno.test("jitter keeps A and B aligned: identical halves stay identical; B = 255 - A stays complementary", () => {
  const g = coordImage(40, 40);
  const inv = makeImage(40, 40, (x, y, c) => 255 - pixelAt(g, x, y)[c]);
  const same = pairedDatasetFromPairs([{ name: "same", a: g, b: g }, {
    name: "inv",
    a: g,
    b: inv,
  }], {
    loadSize: 48,
    cropSize: 32,
  });
  const rng = createRng(11);
  const seen = new Set<string>();
  for (let k = 0; k < 12; k++) {
    const p = same.pixels(0, { jitter: true, rng });
    assert.deepEqual(p.input, p.target);
    seen.add(Array.from(p.input.data.subarray(0, 3)).join(","));
    const q = same.pixels(1, { jitter: true, rng });
    assert.equal(q.input.width, 32);
    for (let i = 0; i < q.input.data.length; i++) {
      assert.ok(
        Math.abs(q.input.data[i] + q.target.data[i] - 255) <= 1,
        `pixel ${i}: ${q.input.data[i]} + ${q.target.data[i]}`,
      );
    }
  }
  assert.ok(seen.size > 6, `expected different crops, saw ${seen.size}`);
});

Deno.test("jitter offsets and flips read back from a gradient (crop only)", () => {
  const g = coordImage(24, 20); // red = 3x, green = 3y
  const ds = pairedDatasetFromPairs([{ name: "g", a: g, b: g }], {
    preprocess: "crop",
    cropSize: 16,
  });
  const rng = createRng(2);
  const xs = new Set<number>();
  let flips = 0;
  for (let k = 0; k < 60; k++) {
    const { input: a, target: b } = ds.pixels(0, { jitter: true, rng });
    const [r0, g0] = pixelAt(a, 0, 0), [r1] = pixelAt(a, 15, 0);
    const flipped = r0 > r1;
    if (flipped) flips++;
    const x = (flipped ? r1 : r0) / 3, y = g0 / 3;
    assert.ok(x >= 0 && x <= 8 && y >= 0 && y <= 4, `offset ${x},${y}`);
    assert.equal(Math.abs(r1 - r0), 45);
    assert.deepEqual(pixelAt(b, 0, 0), pixelAt(a, 0, 0));
    xs.add(x);
  }
  assert.equal(xs.size, 9);
  assert.ok(flips > 15 && flips < 45, `flips ${flips}`);
  const noFlip = pairedDatasetFromPairs([{ name: "g", a: g, b: g }], {
    preprocess: "crop",
    cropSize: 16,
    noFlip: true,
  });
  for (let k = 0; k < 20; k++) {
    const { input: a } = noFlip.pixels(0, { jitter: true, rng });
    assert.ok(pixelAt(a, 0, 0)[0] < pixelAt(a, 15, 0)[0]);
  }
  assert.throws(
    () => ds.pixels(0, { jitter: true }),
    /jitter: expected an rng/,
  );
});

Deno.test("no jitter: the test-time transform (resize to cropSize, no flip) is deterministic", () => {
  const g = coordImage(40, 40);
  const ds = pairedDatasetFromPairs([{ name: "g", a: g, b: g }], {
    loadSize: 36,
    cropSize: 32,
  });
  const p = ds.pixels(0);
  assert.equal(p.input.width, 32);
  assert.deepEqual(ds.pixels(0), p);
  assert.ok(pixelAt(p.input, 0, 0)[0] < pixelAt(p.input, 31, 0)[0]);
  assert.deepEqual(ds.outputSize, [32, 32]);
});

Deno.test("batch and batches: stacked tensors, seeded order, every pair once per epoch", async () => {
  const pairs = Array.from({ length: 5 }, (_, i) => ({
    name: `p${i}`,
    a: makeImage(12, 12, (x, y) => i * 40 + x + y),
    b: makeImage(12, 12, (x) => 255 - i * 40 - x),
  }));
  const ds = pairedDatasetFromPairs(pairs, {
    loadSize: 10,
    cropSize: 8,
    outChannels: 1,
  });
  const b = await ds.batch([3, 1], { jitter: true, rng: createRng(4) });
  assert.deepEqual(b.input.shape, [2, 8, 8, 3]);
  assert.deepEqual(b.target.shape, [2, 8, 8, 1]);
  assert.deepEqual(b.names, ["p3", "p1"]);
  const rng = createRng(4);
  const one = await ds.get(3, { jitter: true, rng });
  const two = await ds.get(1, { jitter: true, rng });
  const expected = tf.concat([tf.stack([one.input, two.input])]);
  assert.deepEqual(await values(b.input), await values(expected));
  for (const t of [b.target, one.input, one.target, two.input, two.target]) {
    t.dispose();
  }

  const before = tf.memory().numTensors;
  const epoch = async (seed: number, dropLast = false): Promise<string[][]> => {
    const out: string[][] = [];
    for await (
      const batch of ds.batches({
        batchSize: 2,
        rng: createRng(seed),
        jitter: true,
        dropLast,
      })
    ) {
      out.push([...batch.names]);
      batch.input.dispose();
      batch.target.dispose();
    }
    return out;
  };
  const e1 = await epoch(8);
  assert.deepEqual(await epoch(8), e1);
  assert.deepEqual(e1.map((x) => x.length), [2, 2, 1]);
  assert.deepEqual(e1.flat().sort(), ["p0", "p1", "p2", "p3", "p4"]);
  assert.deepEqual((await epoch(8, true)).map((x) => x.length), [2, 2]);
  assert.equal(tf.memory().numTensors, before);
  const ordered = [];
  for await (const batch of ds.batches({ batchSize: 5, shuffle: false })) {
    ordered.push(...batch.names);
    tf.dispose([batch.input, batch.target]);
  }
  assert.deepEqual(ordered, ["p0", "p1", "p2", "p3", "p4"]);
  await assert.rejects(
    ds.batches({ batchSize: 2 }).next(),
    /shuffle needs an rng/,
  );
});

Deno.test("batch: pairs of different sizes cannot be stacked (preprocess none)", async () => {
  const ds = pairedDatasetFromPairs([
    { name: "small", a: makeImage(8, 8, () => 0), b: makeImage(8, 8, () => 0) },
    {
      name: "wide",
      a: makeImage(12, 8, () => 0),
      b: makeImage(12, 8, () => 0),
    },
  ], PLAIN);
  assert.equal(ds.outputSize, null);
  await assert.rejects(
    ds.batch([0, 1]),
    /cannot stack pairs of different sizes: 'small' is 8x8, 'wide' is 12x8/,
  );
});

Deno.test("maxSize keeps the first pairs in name order", async () => {
  await withTempDir(async (dir) => {
    for (const n of ["c", "a", "b"]) await writeAB(`${dir}/${n}.png`, A1, B1);
    assert.deepEqual(
      (await pairedDataset(dir, { ...PLAIN, maxSize: 2 })).names,
      ["a.png", "b.png"],
    );
  });
});
