/**
 * `deno task import` and `deno task export` end to end, as subprocesses:
 * PyTorch fixture → p2p checkpoint → safetensors equal to the fixture's
 * tensors, and a tfjs folder.
 */
import { strict as assert } from "node:assert";
import { decodeSafetensors, loadStateDict } from "./mod.ts";

const ROOT = new URL("../", import.meta.url);
const FIX = "tests/fixtures/torch";

async function run(script: string, args: string[]): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout) +
    new TextDecoder().decode(r.stderr);
  if (!r.success) {
    throw new Error(`${script} ${args.join(" ")} failed:\n${out}`);
  }
  return out;
}

Deno.test("cli: import a generator and discriminator, export safetensors and tfjs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "p2p_cli_" });
  try {
    const ckpt = `${dir}/ckpt`;
    const out = await run("cli/import.ts", [
      "--pth",
      `${FIX}/unet_bn.pth`,
      "--net",
      "unet",
      "--size",
      "32",
      "--pth-d",
      `${FIX}/basic_bn_legacy.pth`,
      "--net-d",
      "basic",
      "--out",
      ckpt,
    ]);
    assert.match(out, /generator unet \(depth 5, ngf 4/);
    assert.match(out, /65835 parameters/); // PyTorch's count for the fixture
    const config = JSON.parse(await Deno.readTextFile(`${ckpt}/config.json`));
    assert.equal(config.format, "p2p-checkpoint");
    assert.equal(config.generator.dropout, "pytorch");
    assert.equal(config.discriminator.layers, 3);

    for (
      const [network, file] of [["generator", "unet_bn.pth"], [
        "discriminator",
        "basic_bn.pth",
      ]]
    ) {
      const st = `${dir}/${network}.safetensors`;
      await run("cli/export.ts", [
        "--checkpoint",
        ckpt,
        "--format",
        "safetensors",
        "--network",
        network,
        "--out",
        st,
      ]);
      const got = decodeSafetensors(await Deno.readFile(st));
      const want = await loadStateDict(
        await Deno.readFile(new URL(`${FIX}/${file}`, ROOT)),
      );
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
      for (const [k, t] of want) {
        if (k.endsWith("num_batches_tracked")) continue; // the checkpoint's step
        assert.deepEqual(got.get(k)!.data, t.data, `${network} ${k}`);
      }
    }

    const web = `${dir}/web`;
    const log = await run("cli/export.ts", [
      "--checkpoint",
      ckpt,
      "--format",
      "tfjs",
      "--quantize",
      "uint8",
      "--out",
      web,
    ]);
    assert.match(log, /model\.json \+ 1 shard/);
    const files = [...Deno.readDirSync(web)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      ".p2p-artefact.json", // p2p's marker: a later --force may replace it
      "group1-shard1of1.bin",
      "model.json",
      "p2p.json",
    ]);
    const model = JSON.parse(await Deno.readTextFile(`${web}/model.json`));
    assert.equal(
      model.weightsManifest[0].weights[0].quantization.dtype,
      "uint8",
    );

    // A usage error names the flag.
    await assert.rejects(
      () =>
        run("cli/export.ts", [
          "--checkpoint",
          ckpt,
          "--format",
          "onnx",
          "--out",
          "x",
        ]),
      /--format must be one of safetensors, pth, tfjs, received "onnx"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
