import * as tf from "@tensorflow/tfjs";
import { strict as assert } from "node:assert";
import { unet } from "@p2p/models";
import { quantizeUint8, toFloat16, writeTfjsModel } from "./tfjs_export.ts";

/** Serves `dir` over HTTP so tfjs loads it as a browser would (fetch). */
function serveDir(dir: string): { url: string; close: () => Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const name = new URL(req.url).pathname.slice(1);
      try {
        return new Response(await Deno.readFile(`${dir}/${name}`));
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

Deno.test("toFloat16 rounds like IEEE half", () => {
  assert.equal(toFloat16(1), 0x3c00);
  assert.equal(toFloat16(-2), 0xc000);
  assert.equal(toFloat16(65504), 0x7bff);
  assert.equal(toFloat16(1e6), 0x7c00);
  assert.equal(toFloat16(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(toFloat16(0.1), 0x2e66);
  assert.equal(toFloat16(1 + 2 ** -11), 0x3c00); // tie to even
  assert.equal(toFloat16(1 + 3 * 2 ** -11), 0x3c02);
});

Deno.test("quantizeUint8 keeps 0 exact and stays within half a step", () => {
  const v = Float32Array.of(-0.3, 0, 0.1, 0.7);
  const q = quantizeUint8(v);
  const back = [...q.data].map((x) => x * q.scale + q.min);
  assert.equal(back[1], 0);
  back.forEach((b, i) => assert.ok(Math.abs(b - v[i]) <= q.scale / 2 + 1e-7));
  const c = quantizeUint8(Float32Array.of(0.5, 0.5));
  assert.deepEqual([...c.data].map((x) => x * c.scale + c.min), [0.5, 0.5]);
});

Deno.test("tfjs export: plain tf.loadLayersModel over HTTP reproduces the model", async () => {
  const model = unet({ depth: 5, ngf: 4, size: 32, dropout: "pytorch" });
  // Non-trivial BatchNorm statistics, so that eval mode uses them.
  for (const w of model.weights) {
    if (w.originalName.endsWith("moving_variance")) {
      w.write(tf.randomUniform(w.shape as number[], 0.5, 1.5, "float32", 3));
    }
    if (w.originalName.endsWith("moving_mean")) {
      w.write(tf.randomNormal(w.shape as number[], 0, 0.1, "float32", 4));
    }
  }
  const x = tf.randomUniform([1, 32, 32, 3], -1, 1, "float32", 5);
  const want = model.predict(x) as tf.Tensor;
  const dir = await Deno.makeTempDir();
  const errors: Record<string, number> = {};
  try {
    for (const quantize of ["none", "float16", "uint8"] as const) {
      const r = await writeTfjsModel(`${dir}/${quantize}`, model, {
        quantize,
        shardBytes: 30_000,
      });
      assert.deepEqual(r.customClasses, []);
      assert.ok(r.files.length > 2, "several shards");
      const server = serveDir(r.dir);
      try {
        const loaded = await tf.loadLayersModel(`${server.url}/model.json`);
        assert.equal(
          loaded.layers.filter((l) => l.getClassName() === "Dropout").length,
          0, // depth 5: no dropout blocks
        );
        const got = loaded.predict(x) as tf.Tensor;
        errors[quantize] = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0];
        tf.dispose(got);
        loaded.dispose();
      } finally {
        await server.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    tf.dispose([x, want]);
    model.dispose();
  }
  console.log("max |exported − original|:", errors);
  assert.equal(errors.none, 0);
  assert.ok(errors.float16 < 5e-3, `float16 error ${errors.float16}`);
  assert.ok(errors.uint8 < 0.1, `uint8 error ${errors.uint8}`);
});

Deno.test("tfjs export: SeededDropout becomes Dropout", async () => {
  const model = unet({ depth: 6, ngf: 2, size: 64 });
  const dir = await Deno.makeTempDir();
  try {
    await writeTfjsModel(`${dir}/m`, model);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/m/model.json`));
    const classes = json.modelTopology.config.layers.map((
      l: { class_name: string },
    ) => l.class_name);
    assert.ok(classes.includes("Dropout"));
    assert.ok(!classes.includes("SeededDropout"));
  } finally {
    await Deno.remove(dir, { recursive: true });
    model.dispose();
  }
});
