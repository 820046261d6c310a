/**
 * Exports a p2p checkpoint for other tools.
 *
 *   deno task export --checkpoint DIR --format safetensors --out netG.safetensors
 *   deno task export --checkpoint DIR --format safetensors --network discriminator --out netD.safetensors
 *   deno task export --checkpoint DIR --format tfjs [--quantize float16|uint8] --out web_model/
 *   deno task export --checkpoint DIR --format pth --out checkpoints/NAME/latest_net_G.pth
 *
 * safetensors: the PyTorch reference's key names and layouts, float32, with
 * an int64 `num_batches_tracked` per BatchNorm, so that
 * `net.load_state_dict(safetensors.torch.load_file(path))` loads it strictly.
 * pth: the same state dict as `torch.save` writes it, i.e. the reference's
 * own `<epoch>_net_G.pth` / `_net_D.pth` (its `test.py` and
 * `train.py --continue_train` read it from `checkpoints/NAME/`).
 * tfjs: a LayersModel folder (`model.json` + 4 MiB shards) that plain
 * `tf.loadLayersModel` opens in a browser, plus `p2p.json` describing the
 * input (channels, size, data set) for the page of `deno task serve`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  customClasses,
  encodeSafetensors,
  exportStateDict,
  type NetworkConfig,
  type Quantization,
  QUANTIZATIONS,
  referenceArchitecture,
  saveStateDict,
  writeTfjsModel,
} from "@p2p/interop";
import { portableTopology } from "@p2p/models";
import {
  ARTEFACT_KINDS,
  checkOutputDir,
  checkOutputFile,
  ensureParent,
  writeFileAtomic,
} from "@p2p/internal";
import {
  asGiven,
  type FlagTable,
  parseFlags,
  runMain,
  UsageError,
} from "./args.ts";
import { loadAnyCheckpoint } from "./reference_model.ts";

const USAGE =
  "usage: deno task export --checkpoint DIR --format safetensors|pth|tfjs --out PATH [flags]";

/** The flags of `deno task export`. */
export const EXPORT_FLAGS: FlagTable = {
  checkpoint: {
    type: "string",
    help:
      "p2p checkpoint folder (config.json), the reference's checkpoint folder (latest_net_G.pth / _net_D.pth) or a .pth file.",
    metavar: "DIR",
    path: true,
  },
  format: {
    type: "string",
    help:
      "safetensors: PyTorch reference keys and layouts; pth: the reference's own torch.save file (<epoch>_net_G.pth); tfjs: LayersModel folder for browsers.",
    choices: ["safetensors", "pth", "tfjs"],
  },
  network: {
    type: "string",
    help: "Which network to export.",
    default: "generator",
    choices: ["generator", "discriminator"],
  },
  quantize: {
    type: "string",
    help: "tfjs weight encoding (tfjs-converter quantization entries).",
    default: "none",
    choices: QUANTIZATIONS,
  },
  out: {
    type: "string",
    help:
      "Output file (safetensors, pth) or folder (tfjs); written atomically, never over anything p2p did not write.",
    metavar: "PATH",
    path: true,
  },
  force: {
    type: "boolean",
    help:
      "Replace an existing --out: a safetensors or pth file, or a tfjs model folder p2p wrote.",
    default: false,
  },
};

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes)`;
}

/** The reference's `--netG`/`--netD` name of a configuration, for the metadata. */
function referenceName(config: NetworkConfig): string {
  const arch = referenceArchitecture(config);
  switch (arch.kind) {
    case "unet":
      return arch.depth === 8
        ? "unet_256"
        : arch.depth === 7
        ? "unet_128"
        : `unet (num_downs ${arch.depth})`;
    case "resnet":
      return arch.blocks === 9
        ? "resnet_9blocks"
        : arch.blocks === 6
        ? "resnet_6blocks"
        : `resnet (n_blocks ${arch.blocks})`;
    case "patch":
      return arch.layers === 3
        ? "basic"
        : arch.layers === 0
        ? "pixel"
        : `n_layers (n_layers_D ${arch.layers})`;
  }
}

async function main(): Promise<void> {
  const v = parseFlags(Deno.args, USAGE, EXPORT_FLAGS);
  if (!v) return;
  for (const f of ["checkpoint", "format", "out"]) {
    if (!v[f]) throw new UsageError(`--${f} is required\n${USAGE}`);
  }
  const out = (v.out as string).replace(/\/+$/, "") || "/";
  const force = v.force as boolean;
  // Refuse a bad --out before any work; the write checks again.
  if (v.format === "safetensors" || v.format === "pth") {
    await checkOutputFile(out, { force });
  } else await checkOutputDir(out, ARTEFACT_KINDS.tfjsModel, { force });
  await tf.setBackend("cpu");
  const which = v.network as "generator" | "discriminator";
  const ckpt = await loadAnyCheckpoint(v.checkpoint as string, {
    optimizer: false,
    discriminator: which === "discriminator",
  });
  const model = which === "generator" ? ckpt.generator : ckpt.discriminator;
  const config = which === "generator"
    ? ckpt.config.generator
    : ckpt.config.discriminator;
  if (!model || !config) {
    throw new UsageError(
      `checkpoint ${ckpt.dir} holds no discriminator; export --network generator`,
    );
  }
  if (v.format === "safetensors" || v.format === "pth") {
    const sd = exportStateDict(model, config, {
      numBatchesTracked: ckpt.config.step,
    });
    const bytes = v.format === "pth"
      ? saveStateDict(sd)
      : encodeSafetensors(sd, {
        format: "pt",
        producer: "p2p",
        network: which,
        reference_net: referenceName(config),
        p2p_config: JSON.stringify(config),
      });
    await ensureParent(out);
    await writeFileAtomic(out, bytes);
    console.log(asGiven(
      `wrote ${out}: ${sd.size} tensors, ${
        model.trainableWeights.reduce(
          (n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!,
          0,
        )
      } trainable parameters, ${mib(bytes.length)}; load with ${
        v.format === "pth"
          ? `net.load_state_dict(torch.load("${out}"))`
          : `net.load_state_dict(safetensors.torch.load_file("${out}"))`
      }`,
    ));
  } else {
    if (which !== "generator") {
      throw new UsageError("--format tfjs exports the generator only");
    }
    const quantize = v.quantize as Quantization;
    const info = {
      format: "p2p-web-model",
      version: 1,
      generator: ckpt.config.generator,
      data: ckpt.config.data,
      quantize,
      customClasses: customClasses(
        portableTopology(model.toJSON(null, false)),
      ),
    };
    const r = await writeTfjsModel(out, model, {
      quantize,
      force,
      extraFiles: {
        "p2p.json": new TextEncoder().encode(
          JSON.stringify(info, null, 1) + "\n",
        ),
      },
    });
    console.log(asGiven(
      `wrote ${out}/: model.json + ${
        r.files.length - 2
      } shard(s) + p2p.json, weights ${mib(r.weightBytes)}, total ${
        mib(r.totalBytes)
      }${
        r.customClasses.length
          ? `; register ${
            r.customClasses.join(", ")
          } before tf.loadLayersModel (cli/web/p2p_layers.js does)`
          : ""
      }`,
    ));
  }
  model.dispose();
  if (which === "discriminator") ckpt.generator.dispose();
}

if (import.meta.main) await runMain(main);
