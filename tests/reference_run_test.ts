// A --name run shared with the PyTorch reference: p2p's trainer writes the
// reference's latest_net_G/D.pth beside its checkpoint, the reference's own
// train.py --continue_train continues them, and p2p's --continue_train
// continues what the reference saved. Needs /usr/bin/python3 with torch and
// torchvision and ../shared/reference-pytorch; skipped with a message without.
import assert from "node:assert/strict";
import { readReferenceCheckpoint } from "@p2p/interop";
import { createPixels, writeImage } from "@p2p/data";
import { REFERENCE, referenceTrain, torchReady } from "./reference_helpers.ts";
import { runCli } from "./run_cli.ts";

const withTorch = await torchReady(["torch", "torchvision"], "train.py");
if (!withTorch) {
  console.log(
    `tests/reference_run_test.ts: skipped: /usr/bin/python3 lacks torch or torchvision, or ${REFERENCE} is missing`,
  );
}

const TINY =
  "--model pix2pix --netG unet_128 --ngf 4 --ndf 4 --load_size 128 --crop_size 128 --n_epochs_decay 0";

async function p2pTrain(
  dir: string,
  args: string,
): Promise<{ code: number; out: string }> {
  const r = await runCli(
    "cli/train.ts",
    `--dataroot ${dir}/data --name run --checkpoints_dir ${dir}/ck ${TINY} ${args} --backend cpu`
      .split(" "),
  );
  return { code: r.code, out: r.all };
}

Deno.test({
  name:
    "p2p → reference train.py --continue_train → p2p --continue_train in one --name run folder",
  ignore: !withTorch,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      for (let i = 0; i < 2; i++) {
        const ab = createPixels(64, 32, 3);
        ab.data.forEach((_, k) => (ab.data[k] = (k * (i + 2)) % 256));
        await writeImage(`${dir}/data/train/${i}.png`, ab);
      }
      let r = await p2pTrain(dir, "--n_epochs 1");
      assert.equal(r.code, 0, r.out);
      let ck = await readReferenceCheckpoint(`${dir}/ck/run`, "latest");
      assert.equal(ck.netG, "unet_128");
      assert.equal(ck.netD, "basic");
      assert.equal(ck.step, 2);
      ck.generator.model.dispose();
      ck.discriminator!.model.dispose();
      const out = await referenceTrain(dir, [
        ...`${TINY} --n_epochs 3 --epoch_count 2 --continue_train --save_epoch_freq 1 --gpu_ids -1 --display_id 0 --no_html`
          .split(" "),
        "--dataroot",
        `${dir}/data`,
        "--name",
        "run",
        "--checkpoints_dir",
        `${dir}/ck`,
      ]);
      assert.match(out, /loading the model from .*latest_net_G.pth/);
      r = await p2pTrain(dir, "--n_epochs 4 --epoch_count 4 --continue_train");
      assert.equal(r.code, 0, r.out);
      assert.match(
        r.out,
        /continuing the reference's latest_net_G.pth \/ latest_net_D.pth .* \(step 6, newer than p2p's step 2/,
      );
      ck = await readReferenceCheckpoint(`${dir}/ck/run`, "latest");
      assert.equal(ck.step, 8);
      ck.generator.model.dispose();
      ck.discriminator!.model.dispose();
      const config = JSON.parse(
        await Deno.readTextFile(`${dir}/ck/run/checkpoints/latest/config.json`),
      );
      assert.equal(config.step, 8);
      assert.equal(config.epoch, 4);
      // A new p2p run never replaces the reference's files it did not write.
      await Deno.mkdir(`${dir}/ck/other`);
      for (const n of ["G", "D"]) {
        await Deno.copyFile(
          `${dir}/ck/run/latest_net_${n}.pth`,
          `${dir}/ck/other/latest_net_${n}.pth`,
        );
      }
      r = await p2pTrain(dir, "--n_epochs 1 --name other");
      assert.equal(r.code, 1);
      assert.match(
        r.out,
        /ck\/other holds the reference's checkpoints \(latest_net_G.pth\); continue them with --continue_train/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
