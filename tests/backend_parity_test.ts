// The same small U-Net and PatchGAN give the same outputs on every backend.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu, selectBackend } from "@p2p/backend";
import { patchDiscriminator, unet } from "@p2p/models";

async function outputs(
  backend: "cpu" | "wasm" | "webgpu",
): Promise<Float32Array[]> {
  await selectBackend({ backend, log: null });
  // Built on each backend from the same seed: identical weights.
  const g = unet({ depth: 5, ngf: 4, size: 32, seed: 11 });
  const d = patchDiscriminator({ layers: 3, ndf: 4, size: 32, seed: 12 });
  const x = tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 5);
  const y = tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 6);
  const results: tf.Tensor[] = [];
  results.push(g.apply(x, { training: true }) as tf.Tensor); // batch statistics
  results.push(g.apply(x, { training: false }) as tf.Tensor); // running statistics
  results.push(d.apply([x, y], { training: true }) as tf.Tensor);
  results.push(d.apply([x, results[0]], { training: false }) as tf.Tensor);
  const data = await Promise.all(
    results.map((t) => t.data() as Promise<Float32Array>),
  );
  tf.dispose([x, y, ...results]);
  g.dispose();
  d.dispose();
  return data;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("backend parity: U-Net and PatchGAN agree to 1e-4 on cpu, wasm and webgpu", async () => {
  const ref = await outputs("cpu");
  const probe = await probeGpu();
  const backends: ("wasm" | "webgpu")[] = probe.adapter
    ? ["wasm", "webgpu"]
    : ["wasm"];
  if (!probe.adapter) console.log(`  webgpu skipped: ${probe.description}`);
  for (const backend of backends) {
    const out = await outputs(backend);
    const diffs = out.map((o, i) => maxAbsDiff(ref[i], o));
    console.log(
      `  ${backend} vs cpu: max |Δ| ${Math.max(...diffs).toExponential(2)}`,
    );
    out.forEach((_, i) => {
      const diff = diffs[i];
      assert.ok(
        diff <= 1e-4,
        `${backend} output ${i} differs from cpu by ${diff}`,
      );
    });
  }
  await selectBackend({ backend: "cpu", log: null });
});
