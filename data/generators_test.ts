import assert from "node:assert/strict";
import { embeddedDataset, generateDataset, writeDataset } from "./datasets.ts";
import {
  FACADE_PALETTE,
  generateDay2Night,
  generateFacades,
} from "./facades.ts";
import type { Pixels } from "./image.ts";
import { pairedDataset } from "./paired_dataset.ts";
import { generateEdges2Shapes } from "./shapes.ts";
import { withTempDir } from "./test_helpers.ts";

const rgbKey = (d: Uint8Array, i: number): number =>
  (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
const CLASS_OF = new Map(
  FACADE_PALETTE.map((
    p,
  ) => [(p.color[0] << 16) | (p.color[1] << 8) | p.color[2], p.id]),
);
const mean = (im: Pixels): number =>
  im.data.reduce((s, v) => s + v, 0) / im.data.length;

Deno.test("generators: deterministic for a seed, different across seeds, pair i independent of count", () => {
  for (const name of ["facades", "day2night", "edges2shapes"] as const) {
    const a = generateDataset(name, 3, { size: 32, seed: 5 });
    assert.deepEqual(generateDataset(name, 3, { size: 32, seed: 5 }), a, name);
    assert.notDeepEqual(
      generateDataset(name, 3, { size: 32, seed: 6 })[0].b,
      a[0].b,
      name,
    );
    const tail = generateDataset(name, 2, { size: 32, seed: 5, start: 1 });
    assert.deepEqual(tail, a.slice(1), name);
    assert.deepEqual(a.map((p) => p.name), ["000000", "000001", "000002"]);
    for (const p of a) {
      for (const im of [p.a, p.b]) {
        assert.deepEqual([im.width, im.height, im.channels], [32, 32, 3]);
      }
    }
    assert.notDeepEqual(a[0].a, a[1].a, `${name}: pairs differ`);
  }
});

Deno.test("generators: bad options name the option", () => {
  assert.throws(
    () => generateFacades(2, { size: 8 }),
    /size: expected an integer from 16 to 4096, received 8/,
  );
  assert.throws(
    () => generateEdges2Shapes(-1),
    /count: expected a non-negative integer, received -1/,
  );
  assert.throws(
    () => generateDay2Night(1, { seed: NaN }),
    /seed: expected a finite number/,
  );
  assert.throws(
    () => generateDataset("cats" as never, 1),
    /data set name: expected one of facades, day2night, edges2shapes, received "cats"/,
  );
});

Deno.test("facades: labels use only FACADE_PALETTE colours; the photo's colours follow the labels", () => {
  const pairs = generateFacades(24, { size: 64, seed: 1 });
  const seen = new Set<number>();
  const sums = FACADE_PALETTE.map(() => [0, 0, 0, 0]);
  for (const { a, b } of pairs) {
    for (let i = 0; i < a.data.length; i += 3) {
      const c = CLASS_OF.get(rgbKey(a.data, i));
      assert.ok(
        c !== undefined,
        `label colour ${
          Array.from(a.data.subarray(i, i + 3))
        } is not in the palette`,
      );
      seen.add(c);
      for (let k = 0; k < 3; k++) sums[c][k] += b.data[i + k];
      sums[c][3]++;
    }
  }
  assert.equal(seen.size, 12, `classes seen: ${[...seen]}`);
  const m = sums.map((s) => [s[0] / s[3], s[1] / s[3], s[2] / s[3]]);
  const lum = (c: number[]): number =>
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
  const [sky, wall, windowC, door, , sill, balcony, , , , , shop] = m;
  assert.ok(sky[2] > sky[0] + 60, `sky is blue: ${sky}`);
  assert.ok(
    lum(wall) > lum(windowC) + 20,
    `walls brighter than windows: ${wall} vs ${windowC}`,
  );
  assert.ok(lum(sill) > lum(wall), `stone sills brighter than walls`);
  for (const dark of [door, balcony, shop]) {
    assert.ok(lum(dark) < lum(wall) - 60, `dark elements: ${dark}`);
  }

  // Learnable: predicting each label's mean colour beats predicting the mean image on held-out pairs.
  const S = 64, meanImage = new Float64Array(S * S * 3);
  for (const { b } of pairs.slice(0, 16)) {
    for (let i = 0; i < meanImage.length; i++) {
      meanImage[i] += b.data[i] / 16;
    }
  }
  let byClass = 0, byMean = 0;
  for (const { a, b } of pairs.slice(16)) {
    for (let i = 0; i < a.data.length; i += 3) {
      const c = CLASS_OF.get(rgbKey(a.data, i))!;
      for (let k = 0; k < 3; k++) {
        byClass += Math.abs(m[c][k] - b.data[i + k]);
        byMean += Math.abs(meanImage[i + k] - b.data[i + k]);
      }
    }
  }
  assert.ok(
    byClass < 0.85 * byMean,
    `class-mean L1 ${byClass} vs mean-image L1 ${byMean}`,
  );
});

Deno.test("day2night: same scene, night much darker, some windows lit warm", () => {
  const pairs = generateDay2Night(6, { size: 64, seed: 2 });
  for (const { a, b } of pairs) {
    assert.ok(mean(b) < 0.5 * mean(a), `night ${mean(b)} vs day ${mean(a)}`);
    let warm = 0;
    for (let i = 0; i < b.data.length; i += 3) {
      if (b.data[i] > 190 && b.data[i] > b.data[i + 2] + 60) warm++;
    }
    assert.ok(warm > 10, `lit windows: ${warm} warm pixels`);
  }
});

Deno.test("edges2shapes: A is black lines on white, B is shaded shapes", () => {
  for (const { a, b } of generateEdges2Shapes(6, { size: 64, seed: 3 })) {
    let black = 0;
    for (const v of a.data) {
      assert.ok(v === 0 || v === 255);
      if (v === 0) black++;
    }
    assert.ok(
      black > 30 && black < a.data.length / 3,
      `black samples ${black}`,
    );
    const colours = new Set<number>();
    for (let i = 0; i < b.data.length; i += 3) {
      colours.add(rgbKey(b.data, i) >> 4);
    }
    assert.ok(colours.size > 50, `shaded output has ${colours.size} colours`);
  }
});

Deno.test("generators: fast enough (a 256-pixel facade pair in well under 50 ms)", () => {
  generateFacades(2, { size: 256 });
  const t0 = performance.now();
  generateFacades(5, { size: 256, seed: 9 });
  const perPair = (performance.now() - t0) / 5;
  assert.ok(perPair < 50, `${perPair.toFixed(1)} ms per pair`);
});

Deno.test("writeDataset: AB folder with splits that pairedDataset reads back exactly", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/facades`;
    const w = await writeDataset("facades", out, {
      count: 10,
      size: 16,
      seed: 4,
    });
    assert.deepEqual(w.splits, { train: 8, val: 1, test: 1 });
    assert.equal(w.files.length, 11);
    const info = JSON.parse(await Deno.readTextFile(`${out}/dataset.json`));
    assert.equal(info.name, "facades");
    assert.equal(info.palette.length, 12);
    const generated = generateFacades(10, { size: 16, seed: 4 });
    const train = await pairedDataset(out, { preprocess: "none" });
    assert.deepEqual(
      train.names,
      generated.slice(0, 8).map((p) => `${p.name}.png`),
    );
    assert.deepEqual(train.source(3).input, generated[3].a);
    assert.deepEqual(train.source(3).target, generated[3].b);
    const test = await pairedDataset(out, {
      split: "test",
      preprocess: "none",
    });
    assert.deepEqual(test.source(0).target, generated[9].b);
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, ["facades"], "no temporary folder left behind");
  });
});

Deno.test("writeDataset: refuses to overwrite unless asked, never touches foreign folders", async () => {
  await withTempDir(async (dir) => {
    await writeDataset("edges2shapes", `${dir}/e`, { count: 3, size: 16 });
    await assert.rejects(
      writeDataset("edges2shapes", `${dir}/e`, { count: 3, size: 16 }),
      /output folder '.*\/e': already holds a generated data set; pass overwrite \(--force\)/,
    );
    const w = await writeDataset("day2night", `${dir}/e`, {
      count: 4,
      size: 16,
      overwrite: true,
    });
    assert.equal(
      JSON.parse(await Deno.readTextFile(`${dir}/e/dataset.json`)).name,
      "day2night",
    );
    assert.deepEqual(w.splits, { train: 4, val: 0, test: 0 });
    await Deno.mkdir(`${dir}/mine`);
    await Deno.writeTextFile(`${dir}/mine/keep.txt`, "precious");
    await assert.rejects(
      writeDataset("facades", `${dir}/mine`, {
        count: 3,
        size: 16,
        overwrite: true,
      }),
      /output folder '.*mine': expected a new or empty folder/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/mine/keep.txt`), "precious");
    await Deno.mkdir(`${dir}/empty`);
    await writeDataset("facades", `${dir}/empty`, {
      count: 2,
      size: 16,
      valFraction: 0,
      testFraction: 0,
    });
    assert.deepEqual(
      (await pairedDataset(`${dir}/empty`, { preprocess: "none" })).names,
      ["000000.png", "000001.png"],
    );
  });
});

Deno.test("embeddedDataset: in-memory pairs with crop defaults from size", async () => {
  const ds = embeddedDataset("day2night", {
    count: 3,
    size: 32,
    direction: "BtoA",
    outChannels: 1,
  });
  assert.equal(ds.layout, "memory");
  assert.equal(ds.size, 3);
  assert.equal(ds.options.cropSize, 32);
  assert.equal(ds.options.loadSize, 36);
  assert.deepEqual(ds.outputSize, [32, 32]);
  const night = generateDay2Night(1, { size: 32 })[0].b;
  assert.deepEqual(ds.source(0).input, night);
  const p = await ds.get(0);
  assert.deepEqual(p.target.shape, [32, 32, 1]);
  p.input.dispose();
  p.target.dispose();
});
