import assert from "node:assert/strict";
import { crop, resizeBicubic } from "./resize.ts";
import { createRng } from "./rng.ts";
import { coordImage, pixelAt } from "./test_helpers.ts";
import {
  applyTransform,
  centerTransformParams,
  defaultLoadSize,
  drawTransformParams,
  evalTransformOptions,
  resizedSize,
  resolveTransformOptions,
  transformedSize,
} from "./transform.ts";

Deno.test("resolveTransformOptions: reference defaults and clear errors", () => {
  assert.deepEqual(resolveTransformOptions(), {
    preprocess: "resize_and_crop",
    loadSize: 286,
    cropSize: 256,
    noFlip: false,
  });
  assert.equal(resolveTransformOptions({ cropSize: 64 }).loadSize, 72);
  assert.equal(defaultLoadSize(128), 143);
  assert.throws(
    () => resolveTransformOptions({ preprocess: "zoom" as never }),
    /preprocess must be one of resize_and_crop, .*received "zoom"/,
  );
  assert.throws(
    () => resolveTransformOptions({ cropSize: 0 }),
    /cropSize: expected a positive integer, received 0/,
  );
  assert.throws(
    () => resolveTransformOptions({ loadSize: 200, cropSize: 256 }),
    /loadSize: expected at least cropSize \(256\) with preprocess resize_and_crop, received 200/,
  );
});

Deno.test("resizedSize/transformedSize for every preprocess mode", () => {
  const o = (preprocess: string, loadSize = 30, cropSize = 10) =>
    resolveTransformOptions({
      preprocess: preprocess as never,
      loadSize,
      cropSize,
    });
  assert.deepEqual(resizedSize(40, 20, o("resize_and_crop")), [30, 30]);
  assert.deepEqual(transformedSize(40, 20, o("resize_and_crop")), [10, 10]);
  assert.deepEqual(resizedSize(40, 20, o("crop")), [40, 20]);
  assert.deepEqual(transformedSize(40, 20, o("crop")), [10, 10]);
  assert.deepEqual(resizedSize(40, 20, o("scale_width")), [30, 15]);
  assert.deepEqual(transformedSize(40, 20, o("scale_width")), [30, 15]);
  assert.deepEqual(resizedSize(40, 8, o("scale_width_and_crop")), [30, 10]); // height at least cropSize
  assert.deepEqual(transformedSize(40, 20, o("scale_width_and_crop")), [
    10,
    10,
  ]);
  // "none": nearest multiple of 4, Python's round-half-to-even as the reference's __make_power_2
  assert.deepEqual(resizedSize(30, 22, o("none")), [32, 24]);
  assert.deepEqual(resizedSize(26, 18, o("none")), [24, 16]);
  assert.deepEqual(resizedSize(32, 16, o("none")), [32, 16]);
});

Deno.test("drawTransformParams: three draws, every crop corner reachable, flip about half the time", () => {
  const opts = resolveTransformOptions({ loadSize: 12, cropSize: 8 });
  const rng = createRng(5), twin = createRng(5);
  const xs = new Set<number>(), ys = new Set<number>();
  let flips = 0;
  for (let i = 0; i < 400; i++) {
    const p = drawTransformParams(40, 30, opts, rng);
    twin.next();
    twin.next();
    twin.next();
    xs.add(p.x);
    ys.add(p.y);
    if (p.flip) flips++;
  }
  assert.deepEqual([...xs].sort((a, b) => a - b), [0, 1, 2, 3, 4]);
  assert.deepEqual([...ys].sort((a, b) => a - b), [0, 1, 2, 3, 4]);
  assert.ok(flips > 150 && flips < 250, `flips ${flips}`);
  assert.equal(rng.next(), twin.next());
});

Deno.test("applyTransform: crop offset and flip land where the gradient says", () => {
  const im = coordImage(20, 16); // red = 3x, green = 3y
  const opts = resolveTransformOptions({ preprocess: "crop", cropSize: 8 });
  const out = applyTransform(im, { x: 5, y: 3, flip: false }, opts);
  assert.equal(out.width, 8);
  assert.deepEqual(pixelAt(out, 0, 0), [15, 9, 128]);
  assert.deepEqual(pixelAt(out, 7, 7), [36, 30, 128]);
  const flipped = applyTransform(im, { x: 5, y: 3, flip: true }, opts);
  assert.deepEqual(pixelAt(flipped, 0, 0), [36, 9, 128]);
  assert.deepEqual(pixelAt(flipped, 7, 0), [15, 9, 128]);
  const noFlip = applyTransform(im, { x: 5, y: 3, flip: true }, {
    ...opts,
    noFlip: true,
  });
  assert.deepEqual(noFlip, out);
});

Deno.test("applyTransform: resize_and_crop = bicubic resize then crop", () => {
  const im = coordImage(20, 20);
  const opts = resolveTransformOptions({ loadSize: 24, cropSize: 16 });
  const out = applyTransform(im, { x: 6, y: 2, flip: false }, opts);
  assert.deepEqual(out, crop(resizeBicubic(im, 24, 24), 6, 2, 16, 16));
});

Deno.test("evalTransformOptions + centerTransformParams: resize straight to cropSize, centred, no flip", () => {
  const opts = resolveTransformOptions({ loadSize: 24, cropSize: 16 });
  const ev = evalTransformOptions(opts);
  assert.equal(ev.loadSize, 16);
  assert.equal(ev.noFlip, true);
  assert.deepEqual(centerTransformParams(20, 20, ev), {
    x: 0,
    y: 0,
    flip: false,
  });
  const cropOnly = resolveTransformOptions({ preprocess: "crop", cropSize: 8 });
  assert.deepEqual(centerTransformParams(20, 15, cropOnly), {
    x: 6,
    y: 3,
    flip: false,
  });
});

Deno.test("applyTransform: a crop larger than the image is an error naming it", () => {
  const opts = resolveTransformOptions({ preprocess: "crop", cropSize: 32 });
  assert.throws(
    () =>
      applyTransform(coordImage(20, 40), { x: 0, y: 0, flip: false }, {
        ...opts,
        name: "tiny.png",
      }),
    /tiny.png: 20x40 after preprocess crop is smaller than cropSize 32/,
  );
});
