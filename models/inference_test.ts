import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { imageMetrics, reflectPad, translate, unet } from "./mod.ts";

tf.enableProdMode();
await tf.setBackend("cpu");

Deno.test("reflectPad: reflects, even past the side, and repeats 1-pixel sides", () => {
  const x = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
  const y = reflectPad(x, 0, 0, 4, 0);
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 2, 1, 2, 3]);
  const z = reflectPad(x, 1, 1, 0, 0);
  assert.deepEqual(z.shape, [1, 3, 3, 1]);
  assert.deepEqual(Array.from(z.dataSync()), [1, 2, 3, 1, 2, 3, 1, 2, 3]);
});

Deno.test("translate: any size in, same size out; eval mode deterministic; bad channels named", () => {
  const g = unet({ depth: 5, ngf: 2 });
  const x = tf.randomUniform([1, 37, 50, 3], -1, 1) as tf.Tensor4D;
  const a = translate(g, x, { multiple: 32, mode: "eval" });
  const b = translate(g, x, { multiple: 32, mode: "eval" });
  assert.deepEqual(a.shape, [1, 37, 50, 3]);
  assert.deepEqual(a.dataSync(), b.dataSync());
  const p = translate(g, x, { multiple: 32 });
  assert.deepEqual(p.shape, [1, 37, 50, 3]);
  assert.throws(
    () => translate(g, tf.zeros([1, 32, 32, 1]), { multiple: 32 }),
    /takes 3-channel images, received 1/,
  );
  assert.throws(
    () => translate(g, x, { mode: "train" as "eval" }),
    /mode must be "paper" or "eval", received "train"/,
  );
  g.dispose();
});

Deno.test("imageMetrics: identical images, known PSNR, SSIM drops with noise", async () => {
  const a = tf.randomUniform([32, 32, 3], -1, 1, "float32", 1);
  const same = await imageMetrics(a, a);
  assert.equal(same.l1, 0);
  assert.equal(same.psnr, Infinity);
  assert.ok(Math.abs(same.ssim - 1) < 1e-5);
  // A constant offset of 0.1 in [-1, 1] is 12.75 in [0, 255]: PSNR = 20·log10(255 / 12.75).
  const b = tf.add(tf.mul(a, 0.5), 0); // stays within [-1, 1]
  const c = tf.add(b, 0.1);
  const m = await imageMetrics(c, b);
  assert.ok(Math.abs(m.l1 - 0.1) < 1e-5);
  assert.ok(
    Math.abs(m.psnr - 20 * Math.log10(255 / 12.75)) < 1e-3,
    `psnr ${m.psnr}`,
  );
  const noisy = await imageMetrics(
    tf.clipByValue(
      tf.add(a, tf.randomNormal(a.shape, 0, 0.5, "float32", 2)),
      -1,
      1,
    ),
    a,
  );
  assert.ok(noisy.ssim < 0.9 && noisy.ssim > -1, `ssim ${noisy.ssim}`);
  await assert.rejects(
    () => imageMetrics(a, tf.zeros([32, 32, 1])),
    /equal shapes, received \[32,32,3\] and \[32,32,1\]/,
  );
});
