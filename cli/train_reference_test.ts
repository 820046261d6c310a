// The reference's pix2pix training command lines, `python train.py` →
// `deno task train`, on a tiny data set with tiny sizes added: from its
// README / train.py docstring and scripts/train_pix2pix.sh.
import assert from "node:assert/strict";
import { writeDataset } from "@p2p/data";
import { resolveTrainOptions, TRAIN_OPTIONS } from "@p2p/train";
import { type CliResult, runCli } from "../tests/run_cli.ts";

const SCRIPT = new URL("./train.ts", import.meta.url).pathname;

/** What the reference's commands gain here: tiny sizes, one epoch, the cpu. */
const TINY = [
  "--crop_size",
  "32",
  "--load_size",
  "36",
  "--depth",
  "5",
  "--ngf",
  "4",
  "--ndf",
  "4",
  "--n_epochs",
  "1",
  "--n_epochs_decay",
  "0",
  "--backend",
  "cpu",
];

const README =
  "python train.py --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA";
const SCRIPT_LINE =
  "python train.py --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --netG unet_256 --direction BtoA --lambda_L1 100 --dataset_mode aligned --norm batch --pool_size 0";

async function deno(
  cwd: string,
  line: string,
  extra: string[],
): Promise<CliResult> {
  const args = line.replace(/^python train\.py /, "").split(" ");
  // INIT_CWD as `deno task` run in `cwd` would set it (the test runner's own is inherited otherwise).
  return await runCli(SCRIPT, [...args, ...extra], {
    cwd,
    env: { INIT_CWD: cwd },
  });
}

Deno.test("the reference's pix2pix train.py command lines run as deno task train, keeping the run in checkpoints/NAME", async () => {
  const root = await Deno.makeTempDir();
  try {
    await writeDataset("facades", `${root}/datasets/facades`, {
      count: 4,
      size: 32,
      seed: 1,
    });
    for (const [i, line] of [README, SCRIPT_LINE].entries()) {
      const extra = i === 0 ? TINY : [
        ...TINY,
        "--display_id",
        "-1",
        "--init_type",
        "kaiming",
        "--force",
      ];
      const r = await deno(root, line, extra);
      assert.equal(r.code, 0, `${line}\n${r.err}${r.out}`);
      assert.match(r.out, /completed at step \d+\/\d+/);
      const dir = `${root}/checkpoints/facades_pix2pix`;
      const config = JSON.parse(
        await Deno.readTextFile(`${dir}/checkpoints/latest/config.json`),
      );
      assert.equal(config.train.direction, "BtoA");
      assert.equal(config.train.generator, "unet_256");
      assert.equal(config.train.lambdaL1, 100);
      assert.equal(config.generator.ngf, 4);
      assert.ok((await Deno.stat(`${dir}/index.html`)).isFile);
      if (i === 1) {
        assert.match(r.out, /ignoring --display_id/);
        assert.equal(config.train.initType, "kaiming");
      }
    }
    // --continue_train with one more epoch continues the run.
    const more = TINY.map((a, k) => TINY[k - 1] === "--n_epochs" ? "2" : a);
    const r = await deno(root, `${README} --continue_train`, more);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /resuming/);
    // --epoch N continues from the kept epoch_N instead of latest.
    const again = await deno(
      root,
      `${README} --continue_train --epoch 1`,
      more,
    );
    assert.equal(again.code, 0, again.err + again.out);
    assert.match(again.out, /resuming .*checkpoints\/epoch_1/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("with a data folder and no other flags the options are the reference's pix2pix", () => {
  const o = resolveTrainOptions({ data: "datasets/facades" });
  assert.equal(o.recipe, "reference");
  assert.equal(o.size, 256);
  assert.equal(o.loadSize ?? Math.round(o.size * 286 / 256), 286);
  assert.equal(o.generator, "unet_256");
  assert.equal(o.discriminator, "basic");
  assert.equal(o.ngf, 64);
  assert.equal(o.ndf, 64);
  assert.equal(o.norm, "batch");
  assert.equal(o.noDropout, false);
  assert.equal(o.noFlip, false);
  assert.equal(o.preprocess, "resize_and_crop");
  assert.deepEqual([o.epochs, o.epochsDecay], [100, 100]);
  assert.deepEqual([o.lr, o.beta1, o.lambdaL1, o.batch], [2e-4, 0.5, 100, 1]);
  // Without data: the demo recipe.
  const demo = resolveTrainOptions({});
  assert.equal(demo.recipe, "demo");
  assert.deepEqual([demo.size, demo.depth, demo.ngf], [64, 6, 16]);
});

Deno.test("--help lists every option with its reference alias and default; unknown flags are named", async () => {
  const root = await Deno.makeTempDir();
  try {
    const help = await deno(root, "--help", []);
    assert.equal(help.code, 0);
    for (const spec of Object.values(TRAIN_OPTIONS)) {
      if ("reference" in spec) {
        assert.match(help.out, new RegExp(`--${spec.reference}\\b`));
      }
    }
    assert.match(help.out, /--continue_train/);
    assert.match(help.out, /Accepted and ignored: .*--gpu_ids/);
    const bad = await deno(root, "--netG unet_64", []);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--generator must be one of .*received "unet_64"/);
    const unknown = await deno(root, "--lambda_A 10", []);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /'--lambda_A'/);
    const model = await deno(root, "--model cycle_gan", []);
    assert.equal(model.code, 2);
    assert.match(
      model.err,
      /--model must be one of pix2pix, received "cycle_gan"/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
