/**
 * Exports a p2p checkpoint for other tools.
 *
 *   deno task export --checkpoint DIR --format safetensors --out netG.safetensors
 *   deno task export --checkpoint DIR --format safetensors --network discriminator --out netD.safetensors
 *   deno task export --checkpoint DIR --format tfjs [--quantize float16|uint8] --out web_model/
 *
 * safetensors: the PyTorch reference's key names and layouts, float32, with
 * an int64 `num_batches_tracked` per BatchNorm, so that
 * `net.load_state_dict(safetensors.torch.load_file(path))` loads it strictly.
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
  writeTfjsModel,
} from "@p2p/interop";
import { portableTopology } from "@p2p/models";
import { loadCheckpoint } from "@p2p/train";
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

const USAGE =
  "usage: deno task export --checkpoint DIR --format safetensors|tfjs --out PATH [flags]";

/** The flags of `deno task export`. */
export const EXPORT_FLAGS: FlagTable = {
  checkpoint: {
    type: "string",
    help: "Checkpoint directory (holds config.json).",
    metavar: "DIR",
    path: true,
  },
  format: {
    type: "string",
    help:
      "safetensors: PyTorch reference keys and layouts; tfjs: LayersModel folder for browsers.",
    choices: ["safetensors", "tfjs"],
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
      "Output file (safetensors) or folder (tfjs); written atomically, never over anything p2p did not write.",
    metavar: "PATH",
    path: true,
  },
  force: {
    type: "boolean",
    help:
      "Replace an existing --out: a safetensors file, or a tfjs model folder p2p wrote.",
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
  if (v.format === "safetensors") await checkOutputFile(out, { force });
  else await checkOutputDir(out, ARTEFACT_KINDS.tfjsModel, { force });
  await tf.setBackend("cpu");
  const which = v.network as "generator" | "discriminator";
  const ckpt = await loadCheckpoint(v.checkpoint as string, {
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
  if (v.format === "safetensors") {
    const sd = exportStateDict(model, config, {
      numBatchesTracked: ckpt.config.step,
    });
    const bytes = encodeSafetensors(sd, {
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
      } trainable parameters, ${
        mib(bytes.length)
      }; load with net.load_state_dict(safetensors.torch.load_file("${out}"))`,
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
