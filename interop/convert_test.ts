import type * as tf from "@tensorflow/tfjs";
import { strict as assert } from "node:assert";
import {
  buildDiscriminator,
  buildGenerator,
  type GeneratorConfig,
} from "@p2p/models";
import {
  decodeSafetensors,
  encodeSafetensors,
  exportStateDict,
  importStateDict,
  loadStateDict,
  type NetworkConfig,
  type StateDict,
  StateDictMismatchError,
} from "./mod.ts";

const DIR = new URL("../tests/fixtures/torch/", import.meta.url);
const fixture = async (name: string): Promise<StateDict> =>
  loadStateDict(await Deno.readFile(new URL(name, DIR)), name);

function weightsOf(model: tf.LayersModel): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const w of model.weights) {
    out.set(w.originalName, w.read().dataSync() as Float32Array);
  }
  return out;
}

Deno.test("export → safetensors → import reproduces every reference tensor exactly", async () => {
  for (
    const [file, net] of [
      ["unet_bn.pth", "unet"],
      ["unet_in.pth", "unet"],
      ["resnet_bn.pth", "resnet"],
      ["basic_bn.pth", "basic"],
      ["pixel_bn.pth", "pixel"],
    ] as const
  ) {
    const sd = await fixture(file);
    const a = importStateDict(sd, { net, size: 32 });
    const back = exportStateDict(a.model, a.config, {
      numBatchesTracked: 1234,
    });
    // Same keys as the PyTorch state dict, same shapes, same bits.
    assert.deepEqual([...back.keys()].sort(), [...sd.keys()].sort(), file);
    for (const [k, t] of sd) {
      const u = back.get(k)!;
      assert.deepEqual(u.shape, t.shape, `${file} ${k}`);
      assert.equal(u.dtype, t.dtype, `${file} ${k}`);
      assert.deepEqual(u.data, t.data, `${file} ${k}`);
    }
    // Through the safetensors bytes and back into p2p: exact.
    const st = decodeSafetensors(encodeSafetensors(back));
    const b = importStateDict(st, { net, size: 32 });
    const wa = weightsOf(a.model), wb = weightsOf(b.model);
    assert.deepEqual([...wb.keys()], [...wa.keys()]);
    for (const [k, v] of wa) assert.deepEqual(wb.get(k), v, `${file} ${k}`);
    a.model.dispose();
    b.model.dispose();
  }
});

Deno.test("p2p → reference layout → p2p is lossless for freshly built networks", () => {
  const configs: NetworkConfig[] = [
    {
      kind: "unet",
      depth: 6,
      ngf: 3,
      inChannels: 1,
      outChannels: 2,
      size: 64,
      norm: "batch",
    },
    {
      kind: "resnet",
      blocks: 1,
      ngf: 2,
      dropout: false,
      size: 16,
      norm: "instance",
    },
    {
      kind: "resnet",
      blocks: 2,
      ngf: 2,
      dropout: false,
      size: 16,
      norm: "batch",
    },
    {
      kind: "resnet",
      blocks: 1,
      ngf: 2,
      dropout: true,
      size: 16,
      norm: "instance",
    },
    {
      kind: "patch",
      layers: 2,
      ndf: 3,
      sourceChannels: 1,
      targetChannels: 3,
      size: 32,
    },
  ];
  for (const config of configs) {
    const model = config.kind === "patch"
      ? buildDiscriminator(config)
      : buildGenerator(config as GeneratorConfig);
    const sd = exportStateDict(model, config);
    const net = config.kind === "patch" ? "n_layers" : config.kind as "unet";
    const back = importStateDict(sd, {
      net,
      size: config.size,
      ...(config.kind === "patch" ? { inChannels: 1, outChannels: 3 } : {}),
    });
    const wa = weightsOf(model), wb = weightsOf(back.model);
    assert.deepEqual([...wb.keys()], [...wa.keys()], config.kind);
    for (const [k, v] of wa) {
      assert.deepEqual(wb.get(k), v, `${config.kind} ${k}`);
    }
    model.dispose();
    back.model.dispose();
  }
});

Deno.test("import: missing keys are listed", async () => {
  const sd = await fixture("unet_bn.pth");
  sd.delete("model.model.1.model.2.running_var");
  sd.delete("model.model.3.bias");
  assert.throws(
    () => importStateDict(sd, { net: "unet", size: 32 }),
    (err) => {
      assert.ok(err instanceof StateDictMismatchError);
      assert.deepEqual(err.missing.sort(), [
        "model.model.1.model.2.running_var",
        "model.model.3.bias",
      ]);
      assert.match(err.message, /missing keys \(2\): .*model\.model\.3\.bias/);
      return true;
    },
  );
});

Deno.test("import: unexpected keys are listed", async () => {
  const sd = await fixture("basic_bn.pth");
  const t = sd.get("model.0.bias")!;
  sd.set("model.0.extra", t);
  sd.set("head.weight", t);
  assert.throws(() => importStateDict(sd, { net: "basic" }), (err) => {
    assert.ok(err instanceof StateDictMismatchError);
    assert.deepEqual(err.unexpected, ["model.0.extra", "head.weight"]);
    assert.match(
      err.message,
      /unexpected keys \(2\): model\.0\.extra, head\.weight/,
    );
    return true;
  });
});

Deno.test("import: shape mismatches are listed with both shapes", async () => {
  const sd = await fixture("unet_bn.pth");
  assert.throws(
    () => importStateDict(sd, { net: "unet", ngf: 8, size: 32 }),
    (err) => {
      assert.ok(err instanceof StateDictMismatchError);
      const first = err.mismatched.find((m) =>
        m.key === "model.model.0.weight"
      );
      assert.deepEqual(first, {
        key: "model.model.0.weight",
        found: [4, 3, 4, 4],
        expected: [8, 3, 4, 4],
      });
      assert.match(
        err.message,
        /model\.model\.0\.weight is \[4,3,4,4\] in the file, the network needs \[8,3,4,4\]/,
      );
      return true;
    },
  );
});

Deno.test("import: a net name that does not fit the file lists the keys", async () => {
  const sd = await fixture("unet_bn.pth");
  // unet_256 has 8 levels; the fixture has 5.
  assert.throws(() => importStateDict(sd, { net: "unet_256" }), (err) => {
    assert.ok(err instanceof StateDictMismatchError);
    assert.ok(
      err.missing.includes(
        "model.model.1.model.3.model.3.model.3.model.3.model.3.model.3.model.1.weight",
      ),
    );
    assert.ok(
      err.unexpected.includes(
        "model.model.1.model.3.model.3.model.3.model.4.weight",
      ),
    );
    assert.match(
      err.message,
      /hint: the file holds a U-Net with 5 levels .*--net unet/,
    );
    return true;
  });
  assert.throws(
    () => importStateDict(sd, { net: "resnet" }),
    /do not look like a reference ResNet network .*check --net/,
  );
  assert.throws(
    () => importStateDict(sd, { net: "nope" as "unet" }),
    /net must be one of unet_256, unet_128/,
  );
});

Deno.test("export: configurations without a reference counterpart are refused", () => {
  const config = {
    kind: "unet" as const,
    depth: 5,
    ngf: 2,
    size: 32,
    bias: "all" as const,
  };
  const g = buildGenerator(config);
  assert.throws(() => exportStateDict(g, config), /bias "all"/);
  g.dispose();
});

Deno.test("import: one tensor of the wrong shape is named alone, the width is not inferred from it", async () => {
  for (
    const [file, net, key] of [
      ["unet_bn.pth", "unet", "model.model.0.weight"],
      ["resnet_bn.pth", "resnet", "model.1.weight"],
      ["basic_bn.pth", "basic", "model.0.weight"],
    ] as const
  ) {
    const sd = await fixture(file);
    const t = sd.get(key)!;
    const [o, ...rest] = t.shape;
    const n = (o + 1) * rest.reduce((a, b) => a * b, 1);
    sd.set(key, {
      dtype: "float32",
      shape: [o + 1, ...rest],
      data: new Float32Array(n),
    });
    assert.throws(
      () => importStateDict(sd, { net, size: 32 }),
      (err) => {
        assert.ok(err instanceof StateDictMismatchError, file);
        assert.deepEqual(err.mismatched.map((m) => m.key), [key], file);
        assert.deepEqual(err.mismatched[0].expected, t.shape, file);
        assert.deepEqual(err.missing, [], file);
        return true;
      },
    );
  }
});
