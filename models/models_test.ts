import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  buildDiscriminator,
  buildGenerator,
  checkUnetSize,
  patchDiscriminator,
  preset,
  type PresetName,
  receptiveField,
  resnetGenerator,
  unet,
} from "./mod.ts";

tf.enableProdMode();
await tf.setBackend("cpu");

function trainable(m: tf.LayersModel): number {
  return m.trainableWeights.reduce(
    (s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1),
    0,
  );
}

const expected: Record<
  PresetName,
  { g: number; gAll: number; d: number; dAll: number; out: (number | null)[] }
> = {
  reference: {
    g: 54_413_955,
    gAll: 54_423_811,
    d: 2_768_705,
    dAll: 2_770_497,
    out: [null, 30, 30, 1],
  },
  keras: {
    g: 54_419_459,
    gAll: 54_429_315,
    d: 6_965_441,
    dAll: 6_968_257,
    out: [null, 16, 16, 1],
  },
  neptune: {
    g: 54_419_459,
    gAll: 54_429_315,
    d: 2_769_601,
    dAll: 2_771_393,
    out: [null, 30, 30, 1],
  },
  book: {
    g: 54_419_459,
    gAll: 54_429_315,
    d: 19_545_794,
    dAll: 19_551_682,
    out: [null, 2],
  },
};

for (const name of Object.keys(expected) as PresetName[]) {
  Deno.test(`preset ${name}: parameter counts and output shapes at 256×256`, () => {
    const e = expected[name];
    const p = preset(name);
    const g = buildGenerator(p.generator);
    const d = buildDiscriminator(p.discriminator);
    try {
      assert.equal(trainable(g), e.g, "G trainable");
      assert.equal(g.countParams(), e.gAll, "G with BatchNorm statistics");
      assert.equal(trainable(d), e.d, "D trainable");
      assert.equal(d.countParams(), e.dAll, "D with BatchNorm statistics");
      assert.deepEqual(g.outputs[0].shape, [null, 256, 256, 3]);
      assert.deepEqual(d.outputs[0].shape, e.out);
    } finally {
      g.dispose();
      d.dispose();
    }
  });
}

Deno.test("receptiveField: 1, 16, 34, 70, 142, 286 for layers 0..5", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(receptiveField), [
    1,
    16,
    34,
    70,
    142,
    286,
  ]);
  assert.throws(
    () => receptiveField(-1),
    /layers must be a non-negative integer, received -1/,
  );
});

Deno.test("patchDiscriminator: output side for each layers count, incl. the 1×1 PixelGAN", () => {
  const sides: Record<number, number> = { 0: 64, 1: 30, 2: 14, 3: 6, 4: 2 };
  for (const [layers, side] of Object.entries(sides)) {
    const d = patchDiscriminator({ layers: Number(layers), ndf: 2, size: 64 });
    assert.deepEqual(
      d.outputs[0].shape,
      [null, side, side, 1],
      `layers ${layers}`,
    );
    d.dispose();
  }
});

Deno.test("unet: input side must be divisible by 2^depth, error names size and divisor", () => {
  assert.throws(
    () => unet({ depth: 5, ngf: 2, size: 48 }),
    /unet size 48 is not divisible by 2\^depth = 32/,
  );
  assert.throws(
    () => checkUnetSize(100, 8),
    /input side 100 is not divisible by 2\^depth = 256/,
  );
  assert.throws(
    () => unet({ depth: 5, ngf: 0 }),
    /ngf must be an integer ≥ 1, received 0/,
  );
  assert.throws(
    () => unet({ norm: "layer" as "batch" }),
    /norm must be one of batch, instance, none, received "layer"/,
  );
});

Deno.test("unet: any divisible size when size is null; grey in and out; depth 7 = unet_128", () => {
  const g = unet({ depth: 5, ngf: 2, inChannels: 1, outChannels: 1 });
  const y = g.predict(tf.zeros([2, 64, 96, 1])) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 64, 96, 1]);
  y.dispose();
  g.dispose();
  const g128 = unet({ depth: 7, size: 128 });
  // unet_128 of the reference: 41,828,995 trainable parameters (no redundant biases).
  assert.equal(trainable(g128), 41_828_995);
  g128.dispose();
});

Deno.test("unet: dropout placement paper (d1–d3) vs pytorch (d2–d4)", () => {
  const names = (m: tf.LayersModel) =>
    m.layers.filter((l) => l.getClassName() === "SeededDropout").map((l) =>
      l.name
    );
  const a = unet({ depth: 8, ngf: 1, dropout: "paper" });
  const b = unet({ depth: 8, ngf: 1, dropout: "pytorch" });
  const c = unet({ depth: 8, ngf: 1, dropout: "none" });
  assert.deepEqual(names(a), ["d1_drop", "d2_drop", "d3_drop"]);
  assert.deepEqual(names(b), ["d2_drop", "d3_drop", "d4_drop"]);
  assert.deepEqual(names(c), []);
  [a, b, c].forEach((m) => m.dispose());
});

Deno.test("unet: skip concatenation is [encoder, decoder] in channel order", () => {
  const g = unet({ depth: 5, ngf: 2, size: 32 });
  const cat = g.getLayer("d1_cat");
  const inbound =
    (cat as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] })
      .inboundNodes[0];
  assert.deepEqual(inbound.inboundLayers.map((l) => l.name), [
    "e4_norm",
    "d1_norm",
  ]);
  g.dispose();
});

Deno.test("resnetGenerator: 9 and 6 blocks keep the size; bad size is an error", () => {
  const g = resnetGenerator({ blocks: 2, ngf: 2, size: 32 });
  assert.deepEqual(g.outputs[0].shape, [null, 32, 32, 3]);
  const y = g.predict(tf.randomNormal([1, 32, 32, 3])) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 32, 32, 3]);
  y.dispose();
  g.dispose();
  assert.throws(
    () => resnetGenerator({ size: 30 }),
    /size 30 is not divisible by 4/,
  );
  // resnet_9blocks of the reference at ngf 64: 11,383,427 parameters.
  const g9 = resnetGenerator({ blocks: 9 });
  assert.equal(trainable(g9), 11_383_427);
  g9.dispose();
});

Deno.test("seeded initialisation: same seed, same weights; N(0, 0.02) and γ ~ N(1, 0.02)", () => {
  const a = unet({ depth: 5, ngf: 4, size: 32, seed: 3 });
  const b = unet({ depth: 5, ngf: 4, size: 32, seed: 3 });
  const k = a.getLayer("e3_conv").getWeights()[0];
  assert.deepEqual(
    k.dataSync(),
    b.getLayer("e3_conv").getWeights()[0].dataSync(),
  );
  const std = tf.moments(a.getLayer("e4_conv").getWeights()[0]).variance.sqrt()
    .dataSync()[0];
  assert.ok(Math.abs(std - 0.02) < 0.002, `conv std ${std}`);
  const gamma =
    tf.moments(a.getLayer("e4_norm").getWeights()[0]).mean.dataSync()[0];
  assert.ok(Math.abs(gamma - 1) < 0.01, `gamma mean ${gamma}`);
  a.dispose();
  b.dispose();
});
