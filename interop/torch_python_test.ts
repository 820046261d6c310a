/**
 * The other direction of parity, run only where Debian's python3-torch is
 * installed: p2p exports each fixture as safetensors, and PyTorch (the
 * reference architectures in scripts/make_torch_fixtures.py) loads it with
 * `load_state_dict(strict=True)` and reproduces the fixture's output.
 */
import { strict as assert } from "node:assert";
import {
  encodeSafetensors,
  exportStateDict,
  importStateDict,
  loadStateDict,
  type ReferenceNet,
} from "./mod.ts";

const PYTHON = "/usr/bin/python3";
const ROOT = new URL("../", import.meta.url);

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

const torchAvailable = await hasTorch();
if (!torchAvailable) {
  console.log(
    "interop/torch_python_test.ts: skipped: /usr/bin/python3 cannot import torch (apt-get install -y python3-torch to run it)",
  );
}

Deno.test({
  name:
    "safetensors export loads into the PyTorch reference (strict) and reproduces its output",
  ignore: !torchAvailable,
  fn: async () => {
    const fixtures: [string, ReferenceNet][] = [
      ["unet_bn", "unet"],
      ["unet_in", "unet"],
      ["resnet_bn", "resnet"],
      ["basic_bn", "basic"],
      ["pixel_bn", "pixel"],
    ];
    const dir = await Deno.makeTempDir();
    try {
      const args = ["scripts/make_torch_fixtures.py", "check"];
      for (const [name, net] of fixtures) {
        const sd = await loadStateDict(
          await Deno.readFile(
            new URL(`tests/fixtures/torch/${name}.pth`, ROOT),
          ),
        );
        const { model, config } = importStateDict(sd, { net });
        const file = `${dir}/${name}.safetensors`;
        await Deno.writeFile(
          file,
          encodeSafetensors(exportStateDict(model, config), { format: "pt" }),
        );
        model.dispose();
        args.push(file, name);
      }
      const r = await new Deno.Command(PYTHON, {
        args,
        cwd: ROOT,
      }).output();
      const out = new TextDecoder().decode(r.stdout) +
        new TextDecoder().decode(r.stderr);
      console.log(out.trim());
      assert.ok(r.success, out);
      assert.equal(out.match(/strict=True.*: ok/g)?.length, fixtures.length);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
