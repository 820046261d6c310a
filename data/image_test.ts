import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Image } from "imagescript";
import { deflateSync } from "node:zlib";
import {
  checkChannels,
  concatHorizontal,
  decodeImage,
  encodePng,
  imageToTensor,
  readImage,
  tensorToImage,
  toChannels,
  writeImage,
} from "./image.ts";
import { makeImage, pixelAt, withTempDir } from "./test_helpers.ts";

/** A minimal 8-bit PNG of the given colour type (0 grey, 2 RGB), built by hand. */
function handPng(
  w: number,
  h: number,
  colorType: 0 | 2,
  values: number[],
): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Uint8Array): number => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Uint8Array): Uint8Array => {
    const out = new Uint8Array(12 + data.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, data.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(data, 8);
    dv.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
    return out;
  };
  const bpp = colorType === 0 ? 1 : 3;
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, w);
  new DataView(ihdr.buffer).setUint32(4, h);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const raw = new Uint8Array(h * (1 + w * bpp));
  for (let y = 0; y < h; y++) {
    raw.set(
      values.slice(y * w * bpp, (y + 1) * w * bpp),
      y * (1 + w * bpp) + 1,
    );
  }
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

Deno.test("writeImage/readImage: RGB and grey PNG round trip is exact; no temp files left", async () => {
  await withTempDir(async (dir) => {
    const rgb = makeImage(7, 5, (x, y, c) => x * 30 + y * 7 + c * 50);
    await writeImage(`${dir}/sub/rgb.png`, rgb);
    assert.deepEqual(await readImage(`${dir}/sub/rgb.png`), rgb);
    const grey = makeImage(4, 6, (x, y) => x * 60 + y, 1);
    await writeImage(`${dir}/grey.png`, grey);
    assert.deepEqual(await readImage(`${dir}/grey.png`, { channels: 1 }), grey);
    const asRgb = await readImage(`${dir}/grey.png`);
    assert.equal(asRgb.channels, 3);
    assert.deepEqual(pixelAt(asRgb, 2, 3), [123, 123, 123]);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    for await (const e of Deno.readDir(`${dir}/sub`)) names.push(e.name);
    assert.deepEqual(names.sort(), ["grey.png", "rgb.png", "sub"]);
  });
});

Deno.test("readImage: JPEG is read (lossy, close to the original)", async () => {
  await withTempDir(async (dir) => {
    const img = new Image(16, 16);
    img.fill(Image.rgbToColor(200, 100, 50));
    await Deno.writeFile(`${dir}/x.jpg`, await img.encodeJPEG(95));
    const px = await readImage(`${dir}/x.jpg`);
    assert.equal(px.width, 16);
    assert.equal(px.height, 16);
    const [r, g, b] = pixelAt(px, 8, 8);
    assert.ok(
      Math.abs(r - 200) < 6 && Math.abs(g - 100) < 6 && Math.abs(b - 50) < 6,
      `${[r, g, b]}`,
    );
  });
});

Deno.test("decodeImage: grey and RGB PNGs from other encoders", async () => {
  const grey = await decodeImage(
    handPng(3, 2, 0, [0, 100, 255, 10, 20, 30]),
    "g.png",
  );
  assert.equal(grey.channels, 3);
  assert.deepEqual(pixelAt(grey, 1, 0), [100, 100, 100]);
  const rgb = await decodeImage(handPng(2, 1, 2, [1, 2, 3, 4, 5, 6]), "c.png", {
    channels: 3,
  });
  assert.deepEqual(Array.from(rgb.data), [1, 2, 3, 4, 5, 6]);
});

Deno.test("decodeImage/readImage: bad files are errors naming the file", async () => {
  const png = await encodePng(makeImage(8, 8, (x) => x * 20));
  await assert.rejects(
    decodeImage(new Uint8Array(0), "empty.png"),
    /'empty.png'.*expected a PNG or JPEG file, received an empty file/,
  );
  await assert.rejects(
    decodeImage(new TextEncoder().encode("hello, not an image"), "text.png"),
    /'text.png'.*expected a PNG or JPEG file, received 19 bytes with no PNG or JPEG signature/,
  );
  await assert.rejects(
    decodeImage(png.slice(0, png.length >> 1), "half.png"),
    /'half.png': truncated PNG/,
  );
  await assert.rejects(
    readImage("/nonexistent/dir/x.png"),
    /cannot read image '\/nonexistent\/dir\/x.png'/,
  );
  await assert.rejects(
    decodeImage(png, "x.png", { channels: 4 as never }),
    /x.png: channels: expected a channel count of 1 \(grey\) or 3 \(RGB\), received 4/,
  );
});

Deno.test("toChannels: grey uses PIL's L weights; grey to RGB replicates", () => {
  const rgb = makeImage(
    2,
    1,
    (x, _y, c) => (x === 0 ? [255, 0, 0][c] : [10, 200, 30][c]),
  );
  const g = toChannels(rgb, 1);
  assert.deepEqual(Array.from(g.data), [
    76,
    Math.round(10 * 0.299 + 200 * 0.587 + 30 * 0.114),
  ]);
  assert.deepEqual(Array.from(toChannels(g, 3).data), [
    76,
    76,
    76,
    124,
    124,
    124,
  ]);
  assert.throws(
    () => checkChannels(2, "outChannels"),
    /outChannels: expected a channel count of 1 \(grey\) or 3 \(RGB\), received 2/,
  );
});

Deno.test("imageToTensor/tensorToImage: [-1, 1] mapping, rounding, clamping", async () => {
  const im = makeImage(
    3,
    2,
    (x, y, c) => [0, 255, 128, 1, 254, 64][x + 3 * y] + c,
  );
  const t = imageToTensor(im);
  assert.deepEqual(t.shape, [2, 3, 3]);
  const v = await t.data();
  assert.ok(Math.abs(v[0] - -1) < 1e-6);
  assert.ok(Math.abs(v[3] - 1) < 1e-6);
  assert.deepEqual(await tensorToImage(t), im);
  t.dispose();
  const out = tf.tensor4d([-2, -1, 0, 0.999, 1.5, NaN], [1, 1, 6, 1]);
  assert.deepEqual(Array.from((await tensorToImage(out)).data), [
    0,
    0,
    128,
    255,
    255,
    0,
  ]);
  out.dispose();
  const bad = tf.zeros([2, 2, 2]) as tf.Tensor3D;
  await assert.rejects(
    tensorToImage(bad),
    /tensorToImage: tensor \[2, 2, 2\] channels: expected a channel count of 1 \(grey\) or 3 \(RGB\), received 2/,
  );
  bad.dispose();
});

Deno.test("writeImage: tensor input is written through (x + 1) * 127.5", async () => {
  await withTempDir(async (dir) => {
    const t = tf.tensor3d([-1, 0, 1, 0.5], [2, 2, 1]);
    await writeImage(`${dir}/t.png`, t);
    t.dispose();
    assert.deepEqual(
      Array.from((await readImage(`${dir}/t.png`, { channels: 1 })).data),
      [0, 128, 255, 191],
    );
  });
});

Deno.test("concatHorizontal: places images side by side; mismatches are errors", () => {
  const a = makeImage(2, 2, () => 10), b = makeImage(3, 2, () => 20);
  const ab = concatHorizontal([a, b]);
  assert.equal(ab.width, 5);
  assert.deepEqual(pixelAt(ab, 1, 1), [10, 10, 10]);
  assert.deepEqual(pixelAt(ab, 2, 1), [20, 20, 20]);
  assert.throws(
    () => concatHorizontal([a, makeImage(2, 3, () => 0)]),
    /expected images of height 2/,
  );
});

Deno.test("decodeImage: PNG structure is checked (missing IEND, bad CRC, overlong chunk)", async () => {
  const png = await encodePng(makeImage(8, 8, (x) => x * 20));
  await assert.rejects(
    decodeImage(png.slice(0, png.length - 12), "noiend.png"),
    /'noiend.png': truncated PNG: expected an IEND chunk/,
  );
  const flipped = png.slice();
  flipped[41] ^= 0x55; // inside IDAT's data
  await assert.rejects(
    decodeImage(flipped, "crc.png"),
    /'crc.png': corrupt PNG: CRC mismatch in chunk 'IDAT'/,
  );
  await assert.rejects(
    decodeImage(png.slice(0, 50), "short.png"),
    /'short.png': truncated PNG: chunk 'IDAT' at byte 33 needs/,
  );
});

Deno.test("decodeImage: a truncated JPEG is an error naming the file", async () => {
  const img = new Image(32, 32);
  for (let i = 0; i < img.bitmap.length; i++) img.bitmap[i] = (i * 13) & 255;
  const jpg = await img.encodeJPEG(90);
  await assert.rejects(
    decodeImage(jpg.slice(0, jpg.length >> 1), "cut.jpg"),
    /'cut.jpg': corrupt or truncated JPEG/,
  );
});
