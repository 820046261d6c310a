// The reference's test.py command lines (its README and scripts/test_pix2pix.sh)
// as `deno task translate`, on a tiny data set and a tiny unet_256 saved as the
// reference saves it; where torch is installed, the reference's own test.py runs
// the same command and the results are compared.
import assert from "node:assert/strict";
import { unet } from "@p2p/models";
import { writeReferenceCheckpoint } from "@p2p/interop";
import { createPixels, readImage, writeImage } from "@p2p/data";
import { referenceTest, torchReady } from "./reference_helpers.ts";
import { runCli } from "./run_cli.ts";

async function translate(
  cwd: string,
  args: string[],
): Promise<{ code: number; out: string }> {
  const r = await runCli("cli/translate.ts", [...args, "--backend", "cpu"], {
    cwd,
    env: { INIT_CWD: cwd },
  });
  return { code: r.code, out: r.all };
}

/**
 * Runs test.py's options `line` through the reference's test.py (into
 * ./ref_results) and `deno task translate` (into ./results) in `dir`; asserts
 * both succeed and returns test.py's output.
 */
async function translateBoth(dir: string, line: string): Promise<string> {
  const ref = await referenceTest(dir, [
    ...line.split(" "),
    "--gpu_ids",
    "-1",
    "--results_dir",
    "./ref_results",
  ]);
  assert.ok(ref.success, ref.out);
  const r = await translate(dir, line.split(" "));
  assert.equal(r.code, 0, r.out);
  return ref.out;
}

/** datasets/facades/test/*.jpg-like AB pairs (PNG here) and testB single images. */
async function tinyFacades(dir: string): Promise<void> {
  for (let n = 1; n <= 3; n++) {
    const ab = createPixels(64, 32, 3);
    ab.data.forEach((_, i) => (ab.data[i] = (i * (n + 3) + n * 40) % 256));
    await writeImage(`${dir}/datasets/facades/test/${n}.png`, ab);
    const b = createPixels(32, 32, 3);
    b.data.forEach((_, i) => (b.data[i] = (i * 5 + n * 17) % 256));
    await writeImage(`${dir}/datasets/facades/testB/${n}.png`, b);
  }
}

/** A tiny unet_256 (ngf 2) as the reference's checkpoints/NAME/latest_net_G.pth. */
async function tinyModel(dir: string, name: string): Promise<void> {
  const config = {
    kind: "unet" as const,
    depth: 8,
    ngf: 2,
    size: null,
    bias: "reference" as const,
    dropout: "pytorch" as const,
    seed: 5,
  };
  const g = unet(config);
  await writeReferenceCheckpoint(`${dir}/checkpoints/${name}`, "latest", {
    generator: g,
    configs: { generator: config },
  });
  g.dispose();
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

const PIX2PIX = [
  // README, "Test the model" (scripts/test_pix2pix.sh in the README)
  "--dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA",
  // scripts/test_pix2pix.sh
  "--dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --netG unet_256 --direction BtoA --dataset_mode aligned --norm batch",
  // README, "Apply a pre-trained model" (the name a download gives, here the tiny model)
  "--dataroot ./datasets/facades/ --direction BtoA --model pix2pix --name facades_pix2pix",
];

Deno.test("the reference's pix2pix test.py command lines work as deno task translate", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await tinyFacades(dir);
    await tinyModel(dir, "facades_pix2pix");
    for (const line of PIX2PIX) {
      await Deno.remove(`${dir}/results`, { recursive: true }).catch(() => {});
      const r = await translate(dir, [...line.split(" "), "--ngf", "2"]);
      assert.equal(r.code, 0, r.out);
      const web = `${dir}/results/facades_pix2pix/test_latest`;
      assert.deepEqual(await names(web), ["images", "index.html"]);
      assert.deepEqual(await names(`${web}/images`), [
        "1_fake_B.png",
        "1_real_A.png",
        "1_real_B.png",
        "2_fake_B.png",
        "2_real_A.png",
        "2_real_B.png",
        "3_fake_B.png",
        "3_real_A.png",
        "3_real_B.png",
      ]);
      const fake = await readImage(`${web}/images/2_fake_B.png`);
      assert.equal(fake.width, 256);
      const html = await Deno.readTextFile(`${web}/index.html`);
      assert.match(
        html,
        /<title>Experiment = facades_pix2pix, Phase = test, Epoch = latest<\/title>/,
      );
      assert.match(
        html,
        /<img src="images\/3_real_B.png" style="width:256px">/,
      );
    }
    // README: a pretrained model on single images (--model test).
    await tinyModel(dir, "facades_label2photo_pretrained");
    const r = await translate(
      dir,
      "--dataroot ./datasets/facades/testB/ --name facades_label2photo_pretrained --model test --netG unet_256 --direction BtoA --dataset_mode single --norm batch --num_test 2 --eval"
        .split(" "),
    );
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(
      await names(
        `${dir}/results/facades_label2photo_pretrained/test_latest/images`,
      ),
      ["1_fake.png", "1_real.png", "2_fake.png", "2_real.png"],
    );
    // A p2p run folder CHECKPOINTS_DIR/NAME/checkpoints/latest answers to --name too.
    const { saveCheckpoint } = await import("@p2p/train");
    const { selectBackend } = await import("@p2p/backend");
    await selectBackend({ backend: "cpu", log: null });
    const small = {
      kind: "unet" as const,
      depth: 5,
      ngf: 2,
      size: null,
      seed: 2,
    };
    const g = unet(small);
    await saveCheckpoint(`${dir}/checkpoints/p2p_run/checkpoints/latest`, {
      generator: g,
      generatorConfig: small,
      data: { direction: "BtoA", inChannels: 3, outChannels: 3, size: 32 },
    });
    g.dispose();
    const p2p = await translate(
      dir,
      "--dataroot ./datasets/facades --name p2p_run --model pix2pix --direction BtoA --load_size 32 --crop_size 32 --num_test 1"
        .split(" "),
    );
    assert.equal(p2p.code, 0, p2p.out);
    assert.match(
      p2p.out,
      /model .*checkpoints\/p2p_run\/checkpoints\/latest: unet/,
    );
    assert.deepEqual(
      await names(`${dir}/results/p2p_run/test_latest/images`),
      ["1_fake_B.png", "1_real_A.png", "1_real_B.png"],
    );
    const bad = await translate(
      dir,
      "--dataroot ./datasets/facades --name nobody --model pix2pix".split(" "),
    );
    assert.equal(bad.code, 2);
    assert.match(
      bad.out,
      /no model for --name nobody: neither .*checkpoints\/nobody\/latest_net_G.pth/,
    );
    const unknown = await translate(
      dir,
      "--dataroot ./datasets/facades --name facades_pix2pix --lambda_X 3".split(
        " ",
      ),
    );
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.out, /lambda_X/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const withTorch = await torchReady(
  ["torch", "torchvision", "dominate"],
  "test.py",
);
if (!withTorch) {
  console.log(
    "tests/reference_commands_test.ts: comparison with the reference's test.py skipped: /usr/bin/python3 lacks torch, torchvision or dominate, or ../shared/reference-pytorch is missing",
  );
}

Deno.test({
  name:
    "deno task translate writes what the reference's own test.py writes (--eval)",
  ignore: !withTorch,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await tinyFacades(dir);
      await tinyModel(dir, "facades_pix2pix");
      const line = `${PIX2PIX[1]} --ngf 2 --eval`;
      await translateBoth(dir, line);
      const ours = `${dir}/results/facades_pix2pix/test_latest/images`;
      const theirs = `${dir}/ref_results/facades_pix2pix/test_latest/images`;
      assert.deepEqual(await names(ours), await names(theirs));
      for (const f of await names(theirs)) {
        const a = await readImage(`${ours}/${f}`),
          b = await readImage(`${theirs}/${f}`);
        assert.equal(a.width, b.width);
        let max = 0;
        for (let i = 0; i < a.data.length; i++) {
          max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
        }
        console.log(`${f}: max |p2p - reference| = ${max}`);
        assert.ok(max <= (f.includes("fake") ? 2 : 1), `${f}: ${max}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("translate, export and serve take a reference checkpoint folder or .pth (architecture read from the weights)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await tinyFacades(dir);
    await tinyModel(dir, "facades_label2photo_pretrained");
    const folder = "checkpoints/facades_label2photo_pretrained";
    let r = await translate(dir, [
      "--checkpoint",
      folder,
      "--input",
      "datasets/facades/testB/1.png",
      "--output",
      "out/1.png",
      "--mode",
      "eval",
    ]);
    assert.equal(r.code, 0, r.out);
    assert.equal((await readImage(`${dir}/out/1.png`)).width, 32);
    r = await translate(dir, [
      "--checkpoint",
      `${folder}/latest_net_G.pth`,
      "--input",
      "datasets/facades/testB",
      "--output",
      "out/all",
    ]);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(await names(`${dir}/out/all`), [
      "1.png",
      "2.png",
      "3.png",
    ]);
    const exp = await runCli("cli/export.ts", [
      "--checkpoint",
      `${dir}/${folder}`,
      "--format",
      "tfjs",
      "--out",
      `${dir}/web`,
    ]);
    assert.equal(exp.code, 0, exp.all);
    const info = JSON.parse(await Deno.readTextFile(`${dir}/web/p2p.json`));
    assert.equal(info.generator.depth, 8);
    assert.equal(info.generator.ngf, 2);
    const { startServer } = await import("../cli/serve.ts");
    const server = await startServer({
      checkpoint: `${dir}/${folder}`,
      port: 0,
      log: () => {},
    });
    try {
      const res = await fetch(`${server.url}model/p2p.json`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).generator.kind, "unet");
    } finally {
      await server.close();
    }
    r = await translate(dir, [
      "--checkpoint",
      "datasets",
      "--input",
      "datasets/facades/testB/1.png",
      "--output",
      "x.png",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /datasets is neither a p2p checkpoint \(config.json\) nor a reference checkpoint/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "a p2p checkpoint exported with --format pth runs in the reference's own test.py",
  ignore: !withTorch,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await tinyFacades(dir);
      const { saveCheckpoint } = await import("@p2p/train");
      const { selectBackend } = await import("@p2p/backend");
      await selectBackend({ backend: "cpu", log: null });
      const config = {
        kind: "unet" as const,
        depth: 8,
        ngf: 2,
        size: null,
        bias: "reference" as const,
        dropout: "pytorch" as const,
        seed: 6,
      };
      const g = unet(config);
      await saveCheckpoint(`${dir}/run/latest`, {
        generator: g,
        generatorConfig: config,
        data: { direction: "BtoA", inChannels: 3, outChannels: 3, size: 256 },
      });
      g.dispose();
      const exp = await runCli("cli/export.ts", [
        "--checkpoint",
        `${dir}/run/latest`,
        "--format",
        "pth",
        "--out",
        `${dir}/checkpoints/facades_p2p/latest_net_G.pth`,
      ]);
      assert.equal(exp.code, 0, exp.all);
      const line =
        "--dataroot ./datasets/facades --name facades_p2p --model pix2pix --direction BtoA --ngf 2 --eval";
      const refOut = await translateBoth(dir, line);
      assert.match(refOut, /loading the model from .*latest_net_G.pth/);
      const a = await readImage(
        `${dir}/results/facades_p2p/test_latest/images/1_fake_B.png`,
      );
      const b = await readImage(
        `${dir}/ref_results/facades_p2p/test_latest/images/1_fake_B.png`,
      );
      let max = 0;
      for (let i = 0; i < a.data.length; i++) {
        max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
      }
      assert.ok(max <= 2, `max ${max}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a reference folder without latest_net_G.pth: the error lists the epochs it has", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await tinyFacades(dir);
    await tinyModel(dir, "run");
    await Deno.rename(
      `${dir}/checkpoints/run/latest_net_G.pth`,
      `${dir}/checkpoints/run/5_net_G.pth`,
    );
    const r = await translate(dir, [
      "--checkpoint",
      "checkpoints/run",
      "--input",
      "datasets/facades/testB/1.png",
      "--output",
      "x.png",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /checkpoints\/run holds no latest_net_G.pth \(it has 5_net_G.pth\); give one of those files itself as --checkpoint/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
