import { strict as assert } from "node:assert";
import * as tf from "@tensorflow/tfjs";
import {
  buildDiscriminator,
  buildGenerator,
  type DiscriminatorConfig,
  type GeneratorConfig,
  type LayersModel,
  translate,
} from "@p2p/models";
import {
  loadStateDict,
  readReferenceCheckpoint,
  saveStateDict,
  writeReferenceCheckpoint,
} from "./mod.ts";

const PYTHON = "/usr/bin/python3";
const ROOT = new URL("../", import.meta.url);
const REFERENCE = new URL("../shared/reference-pytorch/", ROOT);

const UNET: GeneratorConfig = {
  kind: "unet",
  depth: 5,
  ngf: 4,
  norm: "batch",
  dropout: "pytorch",
  bias: "reference",
  size: null,
};
const RESNET: GeneratorConfig = {
  kind: "resnet",
  blocks: 2,
  ngf: 4,
  norm: "instance",
  dropout: false,
  size: null,
};
const BASIC: DiscriminatorConfig = {
  kind: "patch",
  layers: 3,
  ndf: 4,
  sourceChannels: 3,
  targetChannels: 3,
  norm: "batch",
  bias: "reference",
  padding: "reference",
  output: "logits",
  size: null,
};
const PIXEL: DiscriminatorConfig = { ...BASIC, layers: 0 };

/** Moves every weight off its initial value (BatchNorm statistics too), seeded. */
function perturb(model: LayersModel, seed: number): void {
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const names = layer.weights.map((w) => w.originalName);
    layer.setWeights(
      ws.map((w, i) =>
        names[i].endsWith("moving_variance")
          ? tf.randomUniform(w.shape, 0.5, 1.5, "float32", seed + i)
          : tf.add(w, tf.randomUniform(w.shape, -0.1, 0.1, "float32", seed + i))
      ),
    );
  }
}

/** A deterministic NCHW input and its NHWC tensor. */
function input(
  c: number,
  side: number,
): { nchw: Float32Array; x: tf.Tensor4D } {
  const nchw = Float32Array.from(
    { length: c * side * side },
    (_, i) => 0.9 * Math.sin(0.37 * i + 0.1 * c),
  );
  const x = tf.tidy(() =>
    tf.tensor4d(nchw, [1, c, side, side]).transpose([0, 2, 3, 1]) as tf.Tensor4D
  );
  return { nchw, x };
}

function nchwOf(y: tf.Tensor): Float32Array {
  return tf.tidy(() => y.transpose([0, 3, 1, 2]).dataSync() as Float32Array);
}

function run(model: LayersModel, role: "G" | "D", x: tf.Tensor4D): tf.Tensor {
  if (role === "G") return translate(model, x, { mode: "eval" });
  return tf.tidy(() => {
    const [src, tgt] = tf.split(x, 2, 3);
    return model.apply([src, tgt], { training: false }) as tf.Tensor;
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("saveStateDict → loadStateDict keeps keys, dtypes, shapes and values", async () => {
  const sd = new Map([
    ["a.weight", {
      dtype: "float32" as const,
      shape: [2, 3],
      data: Float32Array.of(1, -2, 3.5, 4, 5, 6e-8),
    }],
    ["a.num_batches_tracked", {
      dtype: "int64" as const,
      shape: [],
      data: BigInt64Array.of(1234567n),
    }],
    ["b", {
      dtype: "float64" as const,
      shape: [1],
      data: Float64Array.of(Math.PI),
    }],
  ]);
  const back = await loadStateDict(saveStateDict(sd), "written");
  assert.deepEqual([...back.keys()], [...sd.keys()]);
  for (const [k, t] of sd) {
    assert.equal(back.get(k)!.dtype, t.dtype);
    assert.deepEqual(back.get(k)!.shape, t.shape);
    assert.deepEqual(back.get(k)!.data, t.data);
  }
});

Deno.test("writeReferenceCheckpoint → readReferenceCheckpoint: same networks, same outputs, architecture inferred", async () => {
  const dir = await Deno.makeTempDir();
  const g = buildGenerator(UNET), d = buildDiscriminator(BASIC);
  perturb(g, 1);
  perturb(d, 2);
  try {
    const files = await writeReferenceCheckpoint(`${dir}/run`, "latest", {
      generator: g,
      discriminator: d,
      configs: { generator: UNET, discriminator: BASIC },
      step: 42,
    });
    assert.deepEqual(files, [
      `${dir}/run/latest_net_G.pth`,
      `${dir}/run/latest_net_D.pth`,
    ]);
    const back = await readReferenceCheckpoint(`${dir}/run`, "latest");
    assert.equal(back.netG, "unet");
    assert.equal(back.netD, "basic");
    assert.equal(back.step, 42);
    assert.equal(back.generator.config.kind, "unet");
    assert.equal((back.generator.config as { depth: number }).depth, 5);
    const { x } = input(3, 32), xd = input(6, 32).x;
    for (
      const [a, b, role, xi] of [
        [g, back.generator.model, "G", x],
        [d, back.discriminator!.model, "D", xd],
      ] as const
    ) {
      const ya = run(a, role, xi), yb = run(b, role, xi);
      assert.equal(maxDiff(nchwOf(ya), nchwOf(yb)), 0);
      tf.dispose([ya, yb]);
    }
    tf.dispose([x, xd]);
    back.generator.model.dispose();
    back.discriminator!.model.dispose();
    await assert.rejects(
      () => readReferenceCheckpoint(`${dir}/run`, 7),
      /7_net_G\.pth does not exist/,
    );
  } finally {
    g.dispose();
    d.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

async function hasTorch(): Promise<boolean> {
  try {
    const r = await new Deno.Command(PYTHON, {
      args: ["-c", "import torch, numpy"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

const torchReady = await hasTorch();
let referenceReady = false;
try {
  referenceReady = (await Deno.stat(new URL("models/networks.py", REFERENCE)))
    .isFile;
} catch { /* absent */ }
if (!torchReady || !referenceReady) {
  console.log(
    `interop/reference_checkpoint_test.ts: torch checks skipped: ${
      !torchReady
        ? "/usr/bin/python3 cannot import torch (apt-get install -y python3-torch)"
        : "the reference's sources are not at ../shared/reference-pytorch beside the repository"
    }`,
  );
}

interface PairSpec {
  label: string;
  nets: {
    name: string;
    role: "G" | "D";
    config: GeneratorConfig | DiscriminatorConfig;
    c: number;
  }[];
}

const PAIRS: PairSpec[] = [
  {
    label: "1",
    nets: [
      { name: "unet_bn", role: "G", config: UNET, c: 3 },
      { name: "basic_bn", role: "D", config: BASIC, c: 6 },
    ],
  },
  {
    label: "2",
    nets: [
      { name: "resnet_in", role: "G", config: RESNET, c: 3 },
      { name: "pixel_bn", role: "D", config: PIXEL, c: 6 },
    ],
  },
];

/** What scripts/reference_checkpoint_check.py needs to build the reference's network. */
function specOf(
  name: string,
  file: string,
  config: GeneratorConfig | DiscriminatorConfig,
  c: number,
): Record<string, unknown> {
  const k = config as unknown as Record<string, unknown>;
  return {
    name,
    file,
    kind: k.kind === "patch" ? (k.layers === 0 ? "pixel" : "n_layers") : k.kind,
    depth: k.depth,
    blocks: k.blocks,
    layers: k.layers,
    ngf: k.ngf ?? k.ndf,
    norm: k.norm,
    dropout: k.kind === "unet" ? true : k.dropout ?? false,
    input_nc: c,
    output_nc: 3,
    input_shape: [1, c, 32, 32],
  };
}

/** Writes each pair with writeReferenceCheckpoint, its inputs and p2p's outputs. */
async function writeP2pSide(dir: string): Promise<Record<string, unknown>[]> {
  const specs = [];
  let seed = 3;
  for (const pair of PAIRS) {
    const models = pair.nets.map((n) => {
      const m = n.role === "G"
        ? buildGenerator(n.config as GeneratorConfig)
        : buildDiscriminator(n.config as DiscriminatorConfig);
      perturb(m, seed++);
      return m;
    });
    await writeReferenceCheckpoint(`${dir}/p2p`, pair.label, {
      generator: models[0],
      discriminator: models[1],
      configs: {
        generator: pair.nets[0].config as GeneratorConfig,
        discriminator: pair.nets[1].config as DiscriminatorConfig,
      },
    });
    for (const [i, n] of pair.nets.entries()) {
      const { nchw, x } = input(n.c, 32);
      await Deno.writeFile(`${dir}/${n.name}.input.bin`, bytesOf(nchw));
      const y = run(models[i], n.role, x);
      await Deno.writeFile(`${dir}/${n.name}.p2p.bin`, bytesOf(nchwOf(y)));
      tf.dispose([x, y]);
      specs.push(
        specOf(n.name, `${pair.label}_net_${n.role}.pth`, n.config, n.c),
      );
    }
    models.forEach((m) => m.dispose());
  }
  return specs;
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Reads the reference's torch.save files into p2p and compares with torch's outputs. */
async function checkReferenceSide(dir: string): Promise<void> {
  for (const pair of PAIRS) {
    const back = await readReferenceCheckpoint(`${dir}/ref`, pair.label);
    assert.equal(back.step, pair.label === "1" ? 7 : 0);
    const models = [back.generator.model, back.discriminator!.model];
    for (const [i, n] of pair.nets.entries()) {
      const { x } = input(n.c, 32);
      const y = run(models[i], n.role, x);
      const want = new Float32Array(
        (await Deno.readFile(`${dir}/${n.name}.ref.bin`)).slice().buffer,
      );
      const diff = maxDiff(nchwOf(y), want);
      console.log(
        `${n.name}: p2p reads the reference's torch.save file: max |p2p - torch| ${
          diff.toExponential(2)
        }`,
      );
      assert.ok(diff < 1e-4, `${n.name}: ${diff}`);
      tf.dispose([x, y]);
    }
    models.forEach((m) => m.dispose());
  }
}

Deno.test({
  name:
    "the reference's networks load p2p's .pth (strict) with p2p's outputs, and p2p loads the reference's torch.save files",
  ignore: !torchReady || !referenceReady,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const specs = await writeP2pSide(dir);
      await Deno.writeTextFile(`${dir}/specs.json`, JSON.stringify(specs));
      const r = await new Deno.Command(PYTHON, {
        args: [
          "scripts/reference_checkpoint_check.py",
          dir,
          new URL(".", REFERENCE).pathname,
        ],
        cwd: ROOT,
      }).output();
      const out = new TextDecoder().decode(r.stdout) +
        new TextDecoder().decode(r.stderr);
      console.log(out.trim());
      assert.ok(r.success, out);
      assert.equal(out.match(/strict=True.*: ok/g)?.length, 4);
      await checkReferenceSide(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
