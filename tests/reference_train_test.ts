// The reference's own train.py --continue_train continues from networks p2p
// wrote as its checkpoint folder, and p2p reads what it saved. Runs only where
// /usr/bin/python3 has torch and torchvision and ../shared/reference-pytorch
// sits beside the repository (copied to a temporary folder: train.py writes
// beside itself).
import assert from "node:assert/strict";
import { REFERENCE, referenceTrain, torchReady } from "./reference_helpers.ts";
import { buildDiscriminator, buildGenerator } from "@p2p/models";
import type { DiscriminatorConfig, GeneratorConfig } from "@p2p/models";
import {
  readReferenceCheckpoint,
  writeReferenceCheckpoint,
} from "@p2p/interop";
import { createPixels, writeImage } from "@p2p/data";

const withTorch = await torchReady(["torch", "torchvision"], "train.py");
if (!withTorch) {
  console.log(
    `tests/reference_train_test.ts: skipped: /usr/bin/python3 lacks torch or torchvision, or ${REFERENCE} is missing`,
  );
}

const G: GeneratorConfig = {
  kind: "unet",
  depth: 7,
  ngf: 4,
  norm: "batch",
  dropout: "pytorch",
  bias: "reference",
  size: null,
  seed: 3,
};
const D: DiscriminatorConfig = {
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
  seed: 4,
};

Deno.test({
  name:
    "the reference's train.py --continue_train continues p2p's latest_net_G/D.pth, and p2p reads what it saved",
  ignore: !withTorch,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      for (let i = 0; i < 2; i++) {
        const ab = createPixels(64, 32, 3);
        ab.data.forEach((_, k) => (ab.data[k] = (k * (i + 2)) % 256));
        await writeImage(`${dir}/data/train/${i}.png`, ab);
      }
      const g = buildGenerator(G), d = buildDiscriminator(D);
      const before = g.getWeights()[0].dataSync().slice();
      await writeReferenceCheckpoint(`${dir}/ck/run`, "latest", {
        generator: g,
        discriminator: d,
        configs: { generator: G, discriminator: D },
        step: 10,
      });
      g.dispose();
      d.dispose();
      const out = await referenceTrain(dir, [
        ..."--model pix2pix --netG unet_128 --ngf 4 --ndf 4 --load_size 128 --crop_size 128 --n_epochs 3 --n_epochs_decay 0 --epoch_count 2 --continue_train --save_epoch_freq 1 --gpu_ids -1 --display_id 0 --no_html"
          .split(" "),
        "--dataroot",
        `${dir}/data`,
        "--name",
        "run",
        "--checkpoints_dir",
        `${dir}/ck`,
      ]);
      assert.match(out, /loading the model from .*latest_net_G.pth/);
      assert.match(out, /saving the model at the end of epoch 3/);
      // This train.py steps its linear schedule at the start of each epoch:
      // epoch 2 trains at 2e-4, epoch 3 (the last) at 0.
      for (const [label, step] of [["2", 12], ["latest", 14]] as const) {
        const ck = await readReferenceCheckpoint(`${dir}/ck/run`, label);
        assert.equal(ck.netG, "unet_128");
        assert.equal(ck.netD, "basic");
        // Training steps on top of p2p's 10: BatchNorm counts every G forward.
        assert.equal(ck.step, step);
        const after = ck.generator.model.getWeights()[0].dataSync();
        assert.notDeepEqual(after, before);
        ck.generator.model.dispose();
        ck.discriminator!.model.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
