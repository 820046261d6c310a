import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  buildDiscriminator,
  buildGenerator,
  patchDiscriminator,
  preset,
  unet,
} from "@p2p/models";
import {
  createTrainer,
  ganLoss,
  type NamedGradient,
  type StepForward,
  type Trainer,
} from "./mod.ts";

tf.enableProdMode();
await tf.setBackend("cpu");

function tiny(options = {}): Trainer {
  const p = preset("reference", {
    size: 32,
    depth: 5,
    ngf: 4,
    ndf: 4,
    seed: 5,
  });
  return createTrainer(
    buildGenerator(p.generator),
    buildDiscriminator(p.discriminator),
    options,
  );
}

function batch(seed: number): [tf.Tensor4D, tf.Tensor4D] {
  return [
    tf.randomUniform([1, 32, 32, 3], -1, 1, "float32", seed) as tf.Tensor4D,
    tf.randomUniform([1, 32, 32, 3], -1, 1, "float32", seed + 1) as tf.Tensor4D,
  ];
}

const snapshot = (weights: tf.LayerVariable[]): Float32Array[] =>
  weights.map((w) => (w.read().dataSync() as Float32Array).slice());

const same = (a: Float32Array[], b: Float32Array[]) =>
  a.length === b.length && a.every((x, i) => x.every((v, k) => v === b[i][k]));

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.log1p(Math.exp(x));
const mean = (xs: ArrayLike<number>) =>
  Array.from(xs).reduce((s, v) => s + v, 0) / xs.length;

function dispose(t: Trainer): void {
  t.dispose();
  t.generator.dispose();
  t.discriminator.dispose();
}

Deno.test("step: D is updated first (G untouched), then G with D's weights frozen", async () => {
  const t = tiny();
  const [x, y] = batch(1);
  const g0 = snapshot(t.generator.trainableWeights);
  const d0 = snapshot(t.discriminator.trainableWeights);
  let gMid: Float32Array[] = [];
  let dMid: Float32Array[] = [];
  await t.step(x, y, {
    afterDiscriminatorUpdate: () => {
      gMid = snapshot(t.generator.trainableWeights);
      dMid = snapshot(t.discriminator.trainableWeights);
    },
  });
  const g1 = snapshot(t.generator.trainableWeights);
  const d1 = snapshot(t.discriminator.trainableWeights);
  assert.ok(same(gMid, g0), "G changed during the D phase");
  dMid.forEach((w, i) =>
    assert.ok(
      w.some((v, k) => v !== d0[i][k]),
      `D weight ${
        t.discriminator.trainableWeights[i].originalName
      } did not move in the D phase`,
    )
  );
  assert.ok(same(d1, dMid), "D's trainable weights changed during the G phase");
  g1.forEach((w, i) =>
    assert.ok(
      w.some((v, k) => v !== g0[i][k]),
      `G weight ${
        t.generator.trainableWeights[i].originalName
      } did not move in the G phase`,
    )
  );
  assert.equal(t.iterations, 1);
  assert.equal(t.optimizerG.iterations, 1);
  tf.dispose([x, y]);
  dispose(t);
});

Deno.test("step: losses and gradients equal hand-computed values from the same forward pass", async () => {
  const t = tiny();
  const lambda = t.options.lambdaL1;
  const lr = t.options.lr;
  const [x, y] = batch(3);
  const yv = y.dataSync();
  const dBias: number[] = [];
  const dBiasGrads: number[] = [];
  let expectedD = 0;
  for (let s = 0; s < 2; s++) {
    let fwd: Record<keyof StepForward, Float32Array> | undefined;
    let dGrads: Map<string, Float32Array> = new Map();
    let gGrads: Map<string, Float32Array> = new Map();
    let ganBiasGrad: Float32Array | undefined;
    const grab = (gs: NamedGradient[]) =>
      new Map(
        gs.map((g) => [g.name, (g.tensor.dataSync() as Float32Array).slice()]),
      );
    // getWeights() hands out the variables themselves: read, never dispose.
    dBias.push(
      t.discriminator.getLayer("out_conv").getWeights()[1].dataSync()[0],
    );
    const losses = await t.step(x, y, {
      onGradients: (phase, gs) => {
        if (phase === "D") dGrads = grab(gs);
        else gGrads = grab(gs);
      },
      onForward: (f) => {
        fwd = {
          fake: f.fake.dataSync() as Float32Array,
          predReal: f.predReal.dataSync() as Float32Array,
          predFake: f.predFake.dataSync() as Float32Array,
          predFakeG: f.predFakeG.dataSync() as Float32Array,
        };
        // dGAN/dfake through the updated D, computed independently.
        const g = tf.grad((fake: tf.Tensor) =>
          ganLoss(
            t.discriminator.apply([x, fake], { training: true }) as tf.Tensor,
            true,
          )
        )(f.fake);
        ganBiasGrad = g.dataSync() as Float32Array;
        g.dispose();
      },
    });
    const f = fwd!;
    // Losses: BCE with logits by hand; L1 by hand.
    const dReal = mean(Array.from(f.predReal).map((v) => softplus(-v)));
    const dFake = mean(Array.from(f.predFake).map((v) => softplus(v)));
    const gGan = mean(Array.from(f.predFakeG).map((v) => softplus(-v)));
    const l1 = mean(Array.from(f.fake).map((v, i) => Math.abs(v - yv[i])));
    const tol = (a: number, b: number, what: string, rel = 1e-5) =>
      assert.ok(
        Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)),
        `${what}: ${a} vs ${b}`,
      );
    tol(losses.D_real, dReal, "D_real");
    tol(losses.D_fake, dFake, "D_fake");
    tol(losses.G_GAN, gGan, "G_GAN");
    tol(losses.G_L1, lambda * l1, "G_L1");
    assert.equal(losses.D_GP, 0);
    // D's output bias: d/db 0.5·(mean softplus(−r) + mean softplus(f)) = 0.5·(mean(σ(r) − 1) + mean σ(f)).
    const gb = 0.5 * (mean(Array.from(f.predReal).map((v) => sigmoid(v) - 1)) +
      mean(Array.from(f.predFake).map(sigmoid)));
    tol(dGrads.get("out_conv/bias")![0], gb, "dL_D/d out_conv.bias", 1e-4);
    dBiasGrads.push(dGrads.get("out_conv/bias")![0]);
    // G's output bias (tanh output): Σ_pixels dL/dfake · (1 − fake²), with
    // dL/dfake = dGAN/dfake + λ·sign(fake − y)/N.
    const n = f.fake.length;
    const expectedG = [0, 0, 0];
    f.fake.forEach((v, i) => {
      const dl1 = lambda * Math.sign(v - yv[i]) / n;
      expectedG[i % 3] += (ganBiasGrad![i] + dl1) * (1 - v * v);
    });
    const gotG = gGrads.get("d5_tconv/bias")!;
    expectedG.forEach((e, c) =>
      tol(gotG[c], e, `dL_G/d d5_tconv.bias[${c}]`, 1e-4)
    );
    // Adam by hand on D's output bias (β1 0.5, β2 0.999, ε 1e-8).
    if (s === 1) {
      const [g1, g2] = dBiasGrads;
      const m1 = 0.5 * g1, v1 = 0.001 * g1 * g1;
      const m2 = 0.5 * m1 + 0.5 * g2, v2 = 0.999 * v1 + 0.001 * g2 * g2;
      const b1 = dBias[0] - lr * (m1 / 0.5) / (Math.sqrt(v1 / 0.001) + 1e-8);
      expectedD = b1 -
        lr * (m2 / (1 - 0.25)) / (Math.sqrt(v2 / (1 - 0.999 ** 2)) + 1e-8);
      tol(dBias[1], b1, "Adam step 1 on out_conv.bias", 1e-6);
    }
  }
  const after =
    t.discriminator.getLayer("out_conv").getWeights()[1].dataSync()[0];
  assert.ok(
    Math.abs(after - expectedD) < 1e-7,
    `Adam step 2 on out_conv.bias: ${after} vs ${expectedD}`,
  );
  tf.dispose([x, y]);
  dispose(t);
});

Deno.test("step: lsgan and wgangp run; the penalty is reported; bad shapes are named", async () => {
  for (const ganMode of ["lsgan", "wgangp"] as const) {
    const t = tiny({ ganMode });
    const [x, y] = batch(7);
    const l = await t.step(x, y);
    for (const v of Object.values(l)) assert.ok(Number.isFinite(v));
    if (ganMode === "wgangp") assert.ok(l.D_GP > 0);
    else assert.equal(l.D_GP, 0);
    await assert.rejects(
      () => t.step(x, tf.zeros([1, 16, 16, 3]) as tf.Tensor4D),
      /x \[1,32,32,3\] and y \[1,16,16,3\] differ/,
    );
    tf.dispose([x, y]);
    dispose(t);
  }
  const p = preset("neptune", { size: 32, depth: 5, ngf: 2, ndf: 2 });
  assert.throws(
    () =>
      createTrainer(
        buildGenerator(p.generator),
        buildDiscriminator(p.discriminator),
        { ganMode: "wgangp" },
      ),
    /wgangp.*logits/,
  );
});

Deno.test("step: no tensor leak (same count after step 10 and step 200)", async () => {
  const t = createTrainer(
    unet({ depth: 4, ngf: 2, size: 16 }),
    patchDiscriminator({ layers: 1, ndf: 2, size: 16 }),
  );
  const x = tf.randomUniform([1, 16, 16, 3], -1, 1) as tf.Tensor4D;
  const y = tf.randomUniform([1, 16, 16, 3], -1, 1) as tf.Tensor4D;
  let at10 = -1;
  for (let s = 1; s <= 200; s++) {
    await t.step(x, y);
    if (s === 10) at10 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, at10);
  tf.dispose([x, y]);
  dispose(t);
});
