// Training steps on WebGPU (p2p's kernels, with and without the register
// products selectBackend turns on for software adapters) end where cpu's do.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu, selectBackend } from "@p2p/backend";
import { patchDiscriminator, unet } from "@p2p/models";
import { createTrainer, type StepLosses } from "@p2p/train";
import { setRegisterProducts } from "../backend/kernels/webgpu_register_product.ts";

/** Weights of G and D after three steps on `backend`, and the last losses. */
async function threeSteps(
  backend: "cpu" | "webgpu",
  registerProducts = false,
): Promise<{ weights: Float32Array[]; losses: StepLosses }> {
  await selectBackend({ backend, log: null, allowSoftwareGpu: true });
  if (backend === "webgpu") setRegisterProducts(registerProducts);
  // Built on each backend from the same seed: identical weights.
  const g = unet({ depth: 5, ngf: 8, size: 32, seed: 11 });
  const d = patchDiscriminator({ layers: 3, ndf: 8, size: 32, seed: 12 });
  const trainer = createTrainer(g, d);
  const x = tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 5);
  const y = tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 6);
  let losses = await trainer.step(x as tf.Tensor4D, y as tf.Tensor4D);
  for (let i = 0; i < 2; i++) {
    losses = await trainer.step(x as tf.Tensor4D, y as tf.Tensor4D);
  }
  const weights = await Promise.all(
    [...g.getWeights(), ...d.getWeights()].map((t) =>
      t.data() as Promise<Float32Array>
    ),
  );
  trainer.dispose();
  g.dispose();
  d.dispose();
  tf.dispose([x, y]);
  return { weights, losses };
}

Deno.test({
  name:
    "webgpu step parity: three training steps (register products on and off) = cpu to 1e-4",
  ignore: (await probeGpu()).adapter === null,
  fn: async () => {
    const ref = await threeSteps("cpu");
    try {
      for (const on of [false, true]) {
        const out = await threeSteps("webgpu", on);
        let diff = 0;
        out.weights.forEach((w, i) => {
          for (let j = 0; j < w.length; j++) {
            diff = Math.max(diff, Math.abs(w[j] - ref.weights[i][j]));
          }
        });
        assert.ok(diff <= 1e-4, `weights (registers ${on}) differ by ${diff}`);
        for (const [name, value] of Object.entries(out.losses)) {
          const e = ref.losses[name as keyof StepLosses];
          assert.ok(
            Math.abs(value - e) <= 1e-4 * Math.max(1, Math.abs(e)),
            `loss ${name} (registers ${on}): ${value} against ${e}`,
          );
        }
      }
    } finally {
      await selectBackend({ backend: "cpu", log: null });
    }
  },
});
