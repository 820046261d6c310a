import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "@p2p/backend";
import { BatchNormalization, batchNormalization } from "./batch_norm.ts";
import { batchNormTrainFused } from "./batch_norm_train.ts";
import { assertArraysClose } from "./test_helpers.ts";

tf.enableProdMode();

const ARGS = { axis: -1, epsilon: 1e-5, momentum: 0.9 };

/** A one-layer model on `shape` around `layer`, with γ, β and moving statistics set. */
function modelOf(layer: tf.layers.Layer, shape: number[]): tf.LayersModel {
  const input = tf.input({ shape: shape.slice(1) });
  const model = tf.model({
    inputs: input,
    outputs: layer.apply(input) as tf.SymbolicTensor,
  });
  const c = shape[shape.length - 1];
  tf.tidy(() =>
    layer.setWeights([
      tf.randomNormal([c], 1, 0.3, "float32", 11),
      tf.randomNormal([c], 0, 0.3, "float32", 12),
      tf.randomNormal([c], 0, 0.3, "float32", 13),
      tf.add(tf.abs(tf.randomNormal([c], 1, 0.3, "float32", 14)), 0.1),
    ])
  );
  return model;
}

/**
 * Two training steps' outputs, gradients of x, γ and β, the moving
 * statistics after them, and an inference with those: all as arrays.
 */
function steps(layer: tf.layers.Layer, shape: number[]): Float32Array[] {
  const model = modelOf(layer, shape);
  const out: Float32Array[] = [];
  for (let step = 0; step < 2; step++) {
    tf.tidy(() => {
      const x = tf.add(tf.randomNormal(shape, 0, 2, "float32", 20 + step), 1);
      const w = tf.randomNormal(shape, 0, 1, "float32", 30 + step);
      const [g, b] = layer.trainableWeights.map((v) => v.read());
      const [dx, dg, db] = tf.grads((xx: tf.Tensor, _g, _b) =>
        tf.sum(tf.mul(model.apply(xx, { training: true }) as tf.Tensor, w))
      )([x, g, b]);
      const y = model.apply(x, { training: true }) as tf.Tensor;
      for (const t of [y, dx, dg, db]) out.push(t.dataSync() as Float32Array);
    });
  }
  for (const w of layer.getWeights()) out.push(w.dataSync() as Float32Array);
  tf.tidy(() => {
    const x = tf.randomNormal(shape, 0, 1, "float32", 40);
    out.push(
      (model.predict(x) as tf.Tensor).dataSync() as Float32Array,
    );
  });
  model.dispose();
  return out;
}

Deno.test("BatchNormalization: training outputs, gradients and moving statistics = tfjs-layers' (wasm kernels and cpu)", async () => {
  await selectBackend({ backend: "wasm", log: null });
  // Two steps move the statistics; the γ/β gradients only reach them through y.
  for (const shape of [[2, 3, 5, 1], [3, 4, 6, 7], [1, 8, 8, 16], [5, 3]]) {
    await tf.setBackend("cpu");
    const stockCpu = steps(tf.layers.batchNormalization(ARGS), shape);
    const oursCpu = steps(batchNormalization(ARGS), shape);
    assertArraysClose(
      oursCpu,
      stockCpu,
      0,
      `[${shape}] cpu (the composite ops)`,
    );
    await tf.setBackend("wasm");
    assert.ok(batchNormTrainFused());
    const before = tf.memory().numTensors;
    const ours = steps(batchNormalization(ARGS), shape);
    assert.equal(tf.memory().numTensors, before, "no tensors leak");
    const stock = steps(tf.layers.batchNormalization(ARGS), shape);
    assertArraysClose(
      ours,
      stock,
      2e-5,
      `[${shape}] wasm kernels vs tfjs-layers`,
    );
    assertArraysClose(ours, stockCpu, 2e-5, `[${shape}] wasm kernels vs cpu`);
  }
});

Deno.test("BatchNormalization: without γ or β (scale / center false) it is tfjs-layers' own call", async () => {
  await selectBackend({ backend: "wasm", log: null });
  for (const extra of [{ scale: false }, { center: false }]) {
    const args = { ...ARGS, ...extra };
    const outcome = (layer: tf.layers.Layer) =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 3, 3, 4], 1, 2, "float32", 3);
        try {
          return Array.from(
            (layer.apply(x, { training: true }) as tf.Tensor).dataSync(),
          );
        } catch (e) {
          return String(e); // tfjs-layers 4.22 reads the missing weight
        }
      });
    const ours = batchNormalization(args as never);
    const stock = tf.layers.batchNormalization(args);
    assert.deepEqual(outcome(ours), outcome(stock));
    ours.dispose();
    stock.dispose();
  }
});

Deno.test("BatchNormalization: serialises as tfjs-layers' BatchNormalization and loads back as this class", async () => {
  await tf.setBackend("cpu");
  const ours = batchNormalization({ ...ARGS, name: "bn" });
  const stock = tf.layers.batchNormalization({ ...ARGS, name: "bn" });
  assert.equal(ours.getClassName(), "BatchNormalization");
  assert.deepEqual(ours.getConfig(), stock.getConfig());
  const model = modelOf(ours, [1, 2, 2, 3]);
  const json = model.toJSON(undefined, false) as {
    config: { layers: { class_name: string }[] };
  };
  assert.ok(
    json.config.layers.some((l) => l.class_name === "BatchNormalization"),
  );
  const loaded = await tf.models.modelFromJSON({ modelTopology: json });
  assert.ok(loaded.getLayer("bn") instanceof BatchNormalization);
  model.dispose();
  loaded.dispose();
});
