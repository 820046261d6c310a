import assert from "node:assert/strict";
import type { Pixels } from "./image.ts";
import { crop, flipHorizontal, resizeBicubic } from "./resize.ts";
import { makeImage, pixelAt } from "./test_helpers.ts";

// A 6x5 grey image and Pillow 9.4's Image.resize(..., Image.BICUBIC) of it,
// computed once with Pillow (the reference's torchvision Resize uses it).
const SRC = [
  0,
  37,
  74,
  111,
  148,
  185,
  233,
  14,
  51,
  88,
  125,
  162,
  210,
  247,
  28,
  65,
  102,
  139,
  187,
  224,
  5,
  42,
  79,
  116,
  164,
  201,
  238,
  19,
  56,
  93,
];
const PIL_9x4 = [
  49,
  30,
  25,
  63,
  91,
  114,
  139,
  167,
  184,
  241,
  176,
  89,
  47,
  56,
  86,
  111,
  139,
  156,
  192,
  234,
  220,
  33,
  11,
  57,
  81,
  109,
  126,
  165,
  185,
  207,
  205,
  105,
  16,
  51,
  81,
  98,
];
const PIL_4x7 = [
  3,
  65,
  123,
  175,
  86,
  40,
  111,
  163,
  185,
  46,
  90,
  144,
  233,
  103,
  65,
  128,
  220,
  78,
  47,
  112,
  194,
  138,
  40,
  92,
  175,
  223,
  42,
  79,
];

function grey(w: number, h: number, values: number[]): Pixels {
  return { width: w, height: h, channels: 1, data: Uint8Array.from(values) };
}

function maxDiff(a: Uint8Array, b: number[]): number {
  return Math.max(...b.map((v, i) => Math.abs(v - a[i])));
}

Deno.test("resizeBicubic: matches Pillow's BICUBIC within 1 (up- and downscaling)", () => {
  const src = grey(6, 5, SRC);
  const up = resizeBicubic(src, 9, 4);
  assert.equal(up.width, 9);
  assert.equal(up.height, 4);
  assert.ok(maxDiff(up.data, PIL_9x4) <= 1, `9x4: ${Array.from(up.data)}`);
  const down = resizeBicubic(src, 4, 7);
  assert.ok(maxDiff(down.data, PIL_4x7) <= 1, `4x7: ${Array.from(down.data)}`);
});

Deno.test("resizeBicubic: RGB channels are independent; constant stays constant; same size is identity", () => {
  const im = makeImage(10, 8, (_x, _y, c) => [10, 128, 250][c]);
  const out = resizeBicubic(im, 23, 17);
  for (let i = 0; i < out.data.length; i += 3) {
    assert.deepEqual(Array.from(out.data.subarray(i, i + 3)), [10, 128, 250]);
  }
  assert.equal(resizeBicubic(im, 10, 8), im);
  assert.throws(
    () => resizeBicubic(im, 0, 4),
    /expected a positive integer size, received 0x4/,
  );
});

Deno.test("crop and flipHorizontal", () => {
  const im = makeImage(5, 4, (x, y, c) => x * 10 + y + c * 100);
  const c = crop(im, 1, 2, 3, 2);
  assert.deepEqual(pixelAt(c, 0, 0), pixelAt(im, 1, 2));
  assert.deepEqual(pixelAt(c, 2, 1), pixelAt(im, 3, 3));
  assert.throws(
    () => crop(im, 3, 0, 3, 2),
    /window 3x2 at \(3, 0\) does not fit in a 5x4 image/,
  );
  const f = flipHorizontal(im);
  assert.deepEqual(pixelAt(f, 0, 1), pixelAt(im, 4, 1));
  assert.deepEqual(flipHorizontal(f), im);
});
