// SeededDropout on wasm runs p2p's fused P2pDropout kernel; on cpu, tf ops.
// Both draw the same mask from the same seed, forwards and backwards.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "@p2p/backend";
import { getDropoutState, seededDropout, setDropoutState } from "@p2p/layers";

tf.enableProdMode();

const bits = (v: Float32Array): number[] =>
  Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

async function run(backend: "cpu" | "wasm"): Promise<Float32Array[]> {
  await selectBackend({ backend, log: null });
  setDropoutState({ base: 5, counter: 0 });
  const layer = seededDropout({ rate: 0.5 });
  const out = tf.tidy(() => {
    const x = tf.randomNormal([2, 4, 4, 8], 0, 1, "float32", 11);
    const dy = tf.randomNormal([2, 4, 4, 8], 0, 1, "float32", 12);
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const [dx] = tf.grads((a: tf.Tensor) =>
      tf.sum(tf.mul(layer.apply(a, { training: true }) as tf.Tensor, dy))
    )([x]);
    return [y, dx];
  });
  const values = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return values;
}

Deno.test("SeededDropout forward and gradient: wasm's fused P2pDropout = cpu's tf ops, bit for bit", async () => {
  const saved = getDropoutState();
  try {
    const expected = await run("cpu");
    const actual = await run("wasm");
    assert.ok(
      tf.getKernel("P2pDropout", "wasm") != null,
      "P2pDropout is registered on wasm",
    );
    actual.forEach((v, i) =>
      assert.deepEqual(bits(v), bits(expected[i]), `output ${i}`)
    );
    const zeros = actual[0].filter((v) => v === 0).length;
    assert.ok(zeros > 64 && zeros < 192, `${zeros} of 256 dropped`);
  } finally {
    setDropoutState(saved);
  }
});
