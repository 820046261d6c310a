import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertWasmMatchesCpu, randn, useWasmPath } from "./test_util.ts";

tf.enableProdMode();

Deno.test("Tile wasm = cpu (every axis, reps 1–5, int32)", async () => {
  await assertWasmMatchesCpu(() => {
    const m = randn([1, 1, 1, 5], 1);
    const x = randn([2, 3, 1, 4], 2);
    return [
      tf.tile(m, [2, 7, 6, 1]),
      tf.tile(x, [3, 1, 5, 2]),
      tf.tile(randn([3], 3), [4]),
      tf.tile(tf.tensor2d([[1, 2], [3, 4]], undefined, "int32"), [2, 3])
        .toFloat(),
      tf.tile(randn([2, 3], 4), [1, 1]),
    ];
  }, "tile");
});

Deno.test("Slice and split wasm = cpu (contiguous, strided, channel split, int32)", async () => {
  await assertWasmMatchesCpu(() => {
    const x = randn([2, 5, 6, 8], 1);
    return [
      tf.slice(x, [1, 0, 0, 0], [1, 5, 6, 8]),
      tf.slice(x, [0, 1, 2, 3], [2, 3, 2, 4]),
      tf.slice(x, [0, 0, 0, 2], [-1, -1, -1, 5]),
      ...tf.split(x, [3, 5], 3),
      tf.slice(randn([7], 2), [2], [4]),
      tf.slice(tf.range(0, 24, 1, "int32").reshape([4, 6]), [1, 2], [2, 3])
        .toFloat(),
    ];
  }, "slice");
});

Deno.test("Sum and Mean wasm = cpu (leading axes, keepDims, other axes fall back)", async () => {
  await assertWasmMatchesCpu(() => {
    const x = tf.add(randn([2, 9, 7, 6], 1), 3);
    return [
      tf.sum(x, [0, 1, 2]),
      tf.mean(x, [0, 1, 2], true),
      tf.sum(x, 0),
      tf.mean(x),
      tf.sum(x, [1, 2]),
      tf.mean(x, -1),
      tf.sum(x, [-4, -3]),
    ];
  }, "reduce");
});

Deno.test("Identity shares memory and is freed with its last user", async () => {
  await tf.setBackend("wasm");
  useWasmPath("xnnpack");
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const x = randn([3, 4], 1);
  const before = backend.numDataIds();
  const y = tf.clone(x);
  assert.equal(backend.numDataIds(), before, "no new buffer");
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()).length, 12);
  y.dispose();
  assert.equal(backend.numDataIds(), before - 1, "freed with the last tensor");
});

Deno.test("Concat wasm = cpu (channels, middle axis, 3 inputs, 1 channel, int32)", async () => {
  await assertWasmMatchesCpu(() => {
    const a = randn([2, 5, 3, 4], 1);
    const b = randn([2, 5, 3, 1], 2);
    return [
      tf.concat([a, b], 3),
      tf.concat([b, a, b], -1),
      tf.concat([a, randn([2, 2, 3, 4], 3)], 1),
      tf.concat([a, randn([1, 5, 3, 4], 4)], 0),
      tf.concat([randn([300, 2], 5), randn([300, 300], 6)], 1),
      tf.concat([randn([7], 7), randn([3], 8)]),
      tf.concat([
        tf.tensor2d([[1, 2], [3, 4]], undefined, "int32"),
        tf.tensor2d([[5], [6]], undefined, "int32"),
      ], 1).toFloat(),
    ];
  }, "concat");
});
