import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { aleaNext, aleaState } from "./alea.ts";
import { DROPOUT_KERNEL, dropoutValues } from "./dropout_kernel.ts";
import { randn, runOn } from "./test_util.ts";

tf.enableProdMode();

/** The ops SeededDropout runs where there is no fused kernel. */
function composite(x: tf.Tensor, seed: number, rate: number): tf.Tensor {
  const keep = tf.less(
    tf.randomUniform(x.shape, 0, 1, "float32", seed),
    1 - rate,
  );
  return tf.mul(x, tf.mul(tf.cast(keep, "float32"), 1 / (1 - rate)));
}

/** The bits of float32 values (NaN, −0 and all). */
const bits = (v: Float32Array): number[] =>
  Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

Deno.test("alea.ts draws tf.randomUniform's values (seeds 0, 1, 7920, −5, 123456789, 2.5)", async () => {
  assert.ok(await tf.setBackend("cpu"));
  for (const seed of [0, 1, 7920, -5, 123456789, 2.5]) {
    const expected = tf.tidy(() =>
      tf.randomUniform([257], 0, 1, "float32", seed).dataSync()
    );
    const state = aleaState(String(seed));
    const actual = Float32Array.from({ length: 257 }, () => aleaNext(state));
    assert.deepEqual(
      bits(actual),
      bits(expected as Float32Array),
      `seed ${seed}`,
    );
  }
});

Deno.test("P2pDropout on wasm = SeededDropout's tf ops on cpu, bit for bit (odd sizes, rates, ±∞, NaN, −0)", async () => {
  const special = [Infinity, -Infinity, NaN, -0, 0, 3e38, -1e-40, 1, -2];
  const cases: [number[], number, number][] = [
    [[1], 0.5, 1],
    [[7], 0.5, 2],
    [[2, 5, 3, 1], 0.3, 7921],
    [[1, 8, 8, 512], 0.5, 15839],
    [[3, 4, 5, 6], 0.9, -4],
    [[special.length], 0.5, 3],
  ];
  for (const [shape, rate, seed] of cases) {
    const input = () =>
      shape[0] === special.length && shape.length === 1
        ? tf.tensor1d(special)
        : randn(shape, seed);
    const expected = await runOn("cpu", () => [composite(input(), seed, rate)]);
    const actual = await runOn("xnnpack", () => [
      tf.engine().runKernel(DROPOUT_KERNEL, { x: input() }, {
        seed,
        rate,
      }) as tf.Tensor,
    ]);
    assert.deepEqual(actual.shapes, expected.shapes);
    // The JavaScript loop (where WebAssembly does not load) too.
    const xs = (await runOn("cpu", () => [input()])).values[0];
    const js = new Float32Array(xs.length);
    const keep = Math.fround(1 - rate);
    dropoutValues(
      xs,
      js,
      aleaState(String(seed)),
      keep,
      Math.fround(1 / (1 - rate)),
    );
    assert.deepEqual(
      bits(js),
      bits(expected.values[0]),
      `JavaScript, seed ${seed}`,
    );
    assert.deepEqual(
      bits(actual.values[0]),
      bits(expected.values[0]),
      `shape [${shape}], rate ${rate}, seed ${seed}`,
    );
  }
});

Deno.test("P2pDropout on wasm: a clear error for a bad rate, seed or dtype", async () => {
  assert.ok(await tf.setBackend("wasm"));
  await runOn("xnnpack", () => []);
  const x = tf.ones([4]);
  assert.throws(
    () => tf.engine().runKernel(DROPOUT_KERNEL, { x }, { seed: 1, rate: 1 }),
    /rate must be in \[0, 1\), received 1/,
  );
  assert.throws(
    () =>
      tf.engine().runKernel(DROPOUT_KERNEL, { x }, { seed: NaN, rate: 0.5 }),
    /seed must be a finite number, received NaN/,
  );
  const i = tf.ones([4], "int32");
  assert.throws(
    () =>
      tf.engine().runKernel(DROPOUT_KERNEL, { x: i }, { seed: 1, rate: 0.5 }),
    /x must be float32, received int32/,
  );
  tf.dispose([x, i]);
});
