import * as tf from "@tensorflow/tfjs";
import { strict as assert } from "node:assert";
import {
  importStateDict,
  loadStateDict,
  type ReferenceNet,
  type StateDict,
} from "./mod.ts";

const DIR = new URL("../tests/fixtures/torch/", import.meta.url);

interface Fixture {
  spec: { net: string; size: number; in_nc: number };
  files: { pth: string; legacy?: string; input: string; output: string };
  inputShape: number[];
  outputShape: number[];
  outputStd: number;
}

const manifest = JSON.parse(
  await Deno.readTextFile(new URL("manifest.json", DIR)),
) as { fixtures: Record<string, Fixture> };

async function readF32(name: string): Promise<Float32Array> {
  const b = await Deno.readFile(new URL(name, DIR));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** NCHW → NHWC. */
function toNhwc(x: Float32Array, [n, c, h, w]: number[]): tf.Tensor4D {
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(x, [n, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D
  );
}

const NETS: Record<string, ReferenceNet> = {
  unet: "unet",
  resnet: "resnet",
  basic: "basic",
  pixel: "pixel",
};

async function run(
  name: string,
  file: string,
  edit?: (sd: StateDict) => void,
): Promise<number> {
  const f = manifest.fixtures[name];
  const sd = await loadStateDict(await Deno.readFile(new URL(file, DIR)), file);
  edit?.(sd);
  const { model, role } = importStateDict(sd, {
    net: NETS[f.spec.net],
    size: f.spec.size,
  });
  const x = toNhwc(await readF32(f.files.input), f.inputShape);
  const want = toNhwc(await readF32(f.files.output), f.outputShape);
  const inputs = role === "discriminator" ? tf.split(x, 2, 3) : x;
  const y = model.apply(inputs, { training: false }) as tf.Tensor;
  const err = tf.max(tf.abs(tf.sub(y, want))).dataSync()[0];
  tf.dispose([x, want, y, inputs]);
  model.dispose();
  return err;
}

for (const name of Object.keys(manifest.fixtures)) {
  Deno.test(`parity: ${name} matches PyTorch in eval mode`, async () => {
    const f = manifest.fixtures[name];
    const err = await run(name, f.files.pth);
    console.log(`${name}: max |p2p - torch| = ${err.toExponential(2)}`);
    assert.ok(err <= 1e-4, `${name}: max error ${err}`);
    if (f.files.legacy) {
      const e2 = await run(name, f.files.legacy);
      assert.ok(e2 <= 1e-4, `${name} (legacy format): max error ${e2}`);
    }
  });
}

Deno.test("parity: the comparison detects a wrong layout (negative control)", async () => {
  // Swap kh and kw of the outermost transposed conv: a plausible layout bug.
  const err = await run("unet_bn", "unet_bn.pth", (sd) => {
    const t = sd.get("model.model.3.weight")!;
    const [a, b, kh, kw] = t.shape;
    const src = t.data as Float32Array;
    const out = new Float32Array(src.length);
    for (let i = 0; i < a * b; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          out[(i * kh + y) * kw + x] = src[(i * kh + x) * kw + y];
        }
      }
    }
    sd.set("model.model.3.weight", { ...t, data: out });
  });
  console.log(`swapped kernel axes: max error ${err.toExponential(2)}`);
  assert.ok(err > 1e-2, `a wrong layout went unnoticed (error ${err})`);
  for (const f of Object.values(manifest.fixtures)) {
    assert.ok(f.outputStd > 0.01, "fixture outputs must not be near-constant");
  }
});
