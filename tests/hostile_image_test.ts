import assert from "node:assert/strict";
import {
  checkImageSize,
  decodeImage,
  DEFAULT_MAX_PIXELS,
  encodePng,
  imageSize,
  MAX_PIXELS_ENV,
  pairedDataset,
  readImage,
} from "@p2p/data";
import { createPixels } from "../data/image.ts";
import {
  hugeChunkPng,
  hugeJpeg,
  hugePng,
  idatBombPng,
} from "./hostile_files.ts";

Deno.test("a PNG claiming 30000×30000 is refused from its header, naming size and limit", async () => {
  const png = hugePng(30000, 30000);
  assert.ok(png.length < 200_000, `generator made ${png.length} bytes`);
  assert.deepEqual(imageSize(png), {
    format: "png",
    width: 30000,
    height: 30000,
  });
  await assert.rejects(
    () => decodeImage(png, "big.png"),
    (e: Error) =>
      e instanceof RangeError && /big\.png/.test(e.message) &&
      /30000×30000/.test(e.message) &&
      e.message.includes(String(DEFAULT_MAX_PIXELS)) &&
      e.message.includes(MAX_PIXELS_ENV),
  );
});

Deno.test("a JPEG whose SOF claims 60000×60000 is refused before decoding", async () => {
  const jpeg = hugeJpeg(60000, 60000);
  assert.deepEqual(imageSize(jpeg), {
    format: "jpeg",
    width: 60000,
    height: 60000,
  });
  await assert.rejects(
    () => decodeImage(jpeg, "big.jpg"),
    /big\.jpg' is 60000×60000.*above the limit/,
  );
});

Deno.test("readImage refuses a huge image file from its header; the limit is an option", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/big.png`, hugePng(20000, 20000));
    await assert.rejects(() => readImage(`${dir}/big.png`), /20000×20000/);
    const small = await encodePng(createPixels(100, 50, 3));
    await Deno.writeFile(`${dir}/small.png`, small);
    await assert.rejects(
      () => readImage(`${dir}/small.png`, { maxPixels: 4999 }),
      /100×50 .*limit of 4999 pixels/,
    );
    const ok = await readImage(`${dir}/small.png`, { maxPixels: 5000 });
    assert.equal(ok.width, 100);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("P2P_MAX_PIXELS lowers or raises the limit; a malformed value names the variable", async () => {
  const small = await encodePng(createPixels(100, 50, 3));
  const before = Deno.env.get(MAX_PIXELS_ENV);
  try {
    Deno.env.set(MAX_PIXELS_ENV, "4000");
    await assert.rejects(() => decodeImage(small, "s.png"), /limit of 4000/);
    Deno.env.set(MAX_PIXELS_ENV, "5000");
    assert.equal((await decodeImage(small, "s.png")).height, 50);
    Deno.env.set(MAX_PIXELS_ENV, "lots");
    await assert.rejects(
      () => decodeImage(small, "s.png"),
      /P2P_MAX_PIXELS must be a positive integer.*"lots"/,
    );
  } finally {
    if (before === undefined) Deno.env.delete(MAX_PIXELS_ENV);
    else Deno.env.set(MAX_PIXELS_ENV, before);
  }
});

Deno.test("a PNG whose image data is a deflate bomb stops at the size its header needs", async () => {
  const bomb = idatBombPng(16, 16, 64 * 2 ** 20);
  assert.ok(bomb.length < 200_000);
  await assert.rejects(
    () => decodeImage(bomb, "bomb.png"),
    /bomb\.png.*inflates to more than the 272 bytes a 16x16 image needs/,
  );
});

Deno.test("a PNG chunk declaring 2 GiB it does not have is a truncation, not an allocation", async () => {
  await assert.rejects(
    () => decodeImage(hugeChunkPng(0x7fffffff), "chunk.png"),
    /chunk\.png.*truncated PNG: chunk 'IDAT'/,
  );
});

Deno.test("checkImageSize passes small images and unknown bytes through", () => {
  assert.equal(checkImageSize(new Uint8Array([1, 2, 3]), "x", 10), null);
  assert.deepEqual(checkImageSize(hugeJpeg(3, 2), "x", 6), {
    format: "jpeg",
    width: 3,
    height: 2,
  });
});

Deno.test("a paired data set with a huge image reports it by name and limit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/A`);
    await Deno.mkdir(`${dir}/B`);
    const px = await encodePng(createPixels(32, 32, 3));
    await Deno.writeFile(`${dir}/A/1.png`, px);
    await Deno.writeFile(`${dir}/B/1.png`, px);
    await Deno.writeFile(`${dir}/A/2.png`, hugePng(30000, 30000));
    await Deno.writeFile(`${dir}/B/2.png`, px);
    await assert.rejects(
      () => pairedDataset(dir),
      /2\.png' is 30000×30000.*limit/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a JPEG with a small SOF followed by a huge one is judged by the huge one", async () => {
  const small = hugeJpeg(16, 16);
  const huge = hugeJpeg(60000, 60000);
  // SOI + APP0 + SOF(16×16) + SOF(60000×60000) + EOI
  const sof = (j: Uint8Array) => j.subarray(2 + 18, 2 + 18 + 19);
  const both = new Uint8Array([
    ...small.subarray(0, 2 + 18),
    ...sof(small),
    ...sof(huge),
    0xff,
    0xd9,
  ]);
  assert.deepEqual(imageSize(both), {
    format: "jpeg",
    width: 60000,
    height: 60000,
  });
  await assert.rejects(() => decodeImage(both, "two.jpg"), /60000×60000/);
});
