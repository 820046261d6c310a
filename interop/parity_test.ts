import * as tf from "@tensorflow/tfjs";
import { strict as assert } from "node:assert";
import {
  exportStateDict,
  importStateDict,
  loadStateDict,
  type ReferenceNet,
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

async function run(name: string, file: string): Promise<number> {
  const f = manifest.fixtures[name];
  const sd = await loadStateDict(await Deno.readFile(new URL(file, DIR)), file);
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
