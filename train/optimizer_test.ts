import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu, selectBackend } from "@p2p/backend";
import { ADAM_UPDATE_KERNEL, createAdam } from "./optimizer.ts";

tf.enableProdMode();

const gpu = await probeGpu();

async function runOn<T>(
  backend: "cpu" | "wasm" | "webgpu",
  f: () => T,
): Promise<T> {
  await selectBackend({ backend, log: null });
  return f();
}

function assertClose(
  a: tf.Tensor[],
  b: tf.Tensor[],
  tol: number,
  what: string,
) {
  assert.equal(a.length, b.length, what);
  a.forEach((t, i) => {
    const x = t.dataSync(), y = b[i].dataSync();
    for (let k = 0; k < x.length; k++) {
      assert.ok(
        Math.abs(x[k] - y[k]) <= tol,
        `${what}: tensor ${i}[${k}] ${x[k]} vs ${y[k]}`,
      );
    }
  });
}

/** Three Adam steps on a small problem; returns the variables and the optimizer state. */
function adamRun(fused: boolean): tf.Tensor[] {
  const w = tf.variable(
    tf.randomNormal([5, 7], 0, 1, "float32", 1),
    true,
    `w_${fused}_${Math.random()}`,
  );
  const b = tf.variable(
    tf.randomNormal([7], 0, 1, "float32", 2),
    true,
    `b_${fused}_${Math.random()}`,
  );
  const x = tf.randomNormal([4, 5], 0, 1, "float32", 3);
  const y = tf.randomNormal([4, 7], 0, 1, "float32", 4);
  const opt = fused
    ? createAdam({ lr: 2e-2, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 })
    : tf.train.adam(2e-2, 0.5, 0.999, 1e-8);
  for (let i = 0; i < 3; i++) {
    opt.minimize(() =>
      tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar
    );
  }
  const state =
    (opt as unknown as { accumulatedSecondMoment: { variable: tf.Variable }[] })
      .accumulatedSecondMoment.map((s) => s.variable.clone());
  const out = [w.clone(), b.clone(), ...state];
  opt.dispose();
  tf.dispose([w, b]);
  return out;
}

Deno.test("Adam on wasm = tf.train.adam on cpu (values and state, 3 steps)", async () => {
  const expected = await runOn("cpu", () => adamRun(false));
  const actual = await runOn("wasm", () => adamRun(true));
  assertClose(actual, expected, 1e-5, "adam");
  const plain = await runOn("cpu", () => adamRun(true));
  assertClose(plain, expected, 0, "fused adam off wasm is tf.train.adam");
});

Deno.test({
  name:
    "Adam on WebGPU (p2p's kernel, no read-back of β powers) = tf.train.adam on cpu",
  ignore: gpu.adapter === null,
  fn: async () => {
    const expected = await runOn("cpu", () => adamRun(false));
    const onGpu = await runOn("webgpu", () => {
      assert.ok(
        tf.getKernel(ADAM_UPDATE_KERNEL, "webgpu"),
        "the fused kernel is registered on WebGPU",
      );
      return adamRun(true);
    });
    // No synchronous reads on WebGPU under Deno: read, then compare on cpu.
    const values = await Promise.all(onGpu.map((t) => t.data()));
    const shapes = onGpu.map((t) => t.shape);
    tf.dispose(onGpu);
    await selectBackend({ backend: "cpu", log: null });
    const actual = values.map((v, i) => tf.tensor(v, shapes[i]));
    assertClose(actual, expected, 1e-5, "adam webgpu");
    tf.dispose([...expected, ...actual]);
  },
});

Deno.test("Adam: getWeights names and iterations match tf.train.adam", async () => {
  await selectBackend({ backend: "wasm", log: null });
  assert.ok(
    tf.getKernel(ADAM_UPDATE_KERNEL, "wasm"),
    "the fused kernel is registered on wasm",
  );
  const v = tf.variable(tf.ones([3]), true, "fused_adam_weights_test");
  const opt = createAdam({ lr: 0.1, beta1: 0.5, beta2: 0.999 });
  opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar);
  const weights = await opt.getWeights();
  assert.deepEqual(weights.map((w) => w.name), [
    "iter",
    "fused_adam_weights_test/m",
    "fused_adam_weights_test/v",
  ]);
  assert.equal(weights[0].tensor.dataSync()[0], 1);
  opt.dispose();
  v.dispose();
});

Deno.test("Adam: setLearningRate, exportState and importState continue a run exactly", async () => {
  await selectBackend({ backend: "cpu", log: null });
  const w = tf.variable(tf.tensor1d([1, -2, 3]), true, "adam_state_test");
  const loss = () => tf.sum(tf.square(w)) as tf.Scalar;
  const a = createAdam({ lr: 0.1 });
  a.minimize(loss);
  a.setLearningRate(0.05);
  assert.equal(a.lr, 0.05);
  const weights = [{ name: "w", variable: w }];
  const state = await a.exportState(weights);
  assert.equal(state.iterations, 1);
  assert.deepEqual([...state.m.keys()], ["w"]);
  const b = createAdam({ lr: 0.05 });
  await b.importState(
    {
      ...state,
      m: new Map([["w", state.m.get("w")!.clone()]]),
      v: new Map([["w", state.v.get("w")!.clone()]]),
    },
    weights,
  );
  const start = w.clone();
  a.minimize(loss);
  const afterA = w.clone();
  w.assign(start);
  b.minimize(loss);
  assert.deepEqual(Array.from(w.dataSync()), Array.from(afterA.dataSync()));
  await assert.rejects(
    () => b.importState(state, weights),
    /already taken steps/,
  );
  assert.throws(
    () => a.setLearningRate(-1),
    /learning rate must be a number ≥ 0, received -1/,
  );
  a.dispose();
  b.dispose();
  tf.dispose([w, start, afterA]);
});
