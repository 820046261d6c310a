/**
 * Imports a PyTorch pix2pix `state_dict` (`torch.save` file, e.g. the
 * reference's `latest_net_G.pth`) as a p2p checkpoint. No Python needed.
 *
 *   deno task import --pth latest_net_G.pth --net unet_256 --out runs/facades_pt/checkpoints/latest
 *   deno task import --pth G.pth --net unet_256 --pth-d D.pth --net-d basic --out DIR
 *   deno task import --pth D.pth --net basic --out DIR   # adds D to the existing checkpoint DIR
 *
 * Sizes (depth, ngf, channels, norm) are read from the file unless given;
 * given ones are checked against it. Unknown or missing keys and shape
 * mismatches are reported with every key at fault.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { DiscriminatorConfig, GeneratorConfig } from "@p2p/models";
import {
  type ImportOptions,
  type ImportResult,
  importStateDict,
  loadStateDict,
  REFERENCE_NETS,
  type ReferenceNet,
} from "@p2p/interop";
import {
  CHECKPOINT_FORMAT,
  type CheckpointState,
  loadCheckpoint,
  saveCheckpoint,
} from "@p2p/train";
import {
  ARTEFACT_KINDS,
  ARTEFACT_MARKER,
  checkOutputDir,
  exists,
  markerBytes,
  writeFailure,
  writeFileAtomic,
} from "@p2p/internal";
import {
  asGiven,
  type FlagTable,
  type FlagValues,
  intFlag,
  parseFlags,
  runMain,
  UsageError,
} from "./args.ts";

const USAGE =
  "usage: deno task import --pth FILE --net NET [--pth-d FILE --net-d NET] --out DIR [flags]";

const D_NETS = ["basic", "n_layers", "pixel"];

/** The flags of `deno task import`. */
export const IMPORT_FLAGS: FlagTable = {
  pth: {
    type: "string",
    help: "state_dict saved by torch.save (zip or legacy format).",
    metavar: "FILE",
    path: true,
  },
  net: {
    type: "string",
    help:
      "Reference network of --pth (--netG or --netD name; unet/resnet/n_layers infer their size).",
    choices: REFERENCE_NETS,
  },
  "pth-d": {
    type: "string",
    help: "Optional discriminator state_dict to store beside the generator.",
    metavar: "FILE",
    path: true,
  },
  "net-d": {
    type: "string",
    help: "Reference network of --pth-d.",
    default: "basic",
    choices: D_NETS,
  },
  norm: {
    type: "string",
    help:
      "Normalisation (--norm of the reference); read from the file if absent.",
    choices: ["batch", "instance"],
  },
  ngf: {
    type: "string",
    help: "Generator filters; read from the file if absent.",
    metavar: "N",
  },
  ndf: {
    type: "string",
    help: "Discriminator filters; read from the file if absent.",
    metavar: "N",
  },
  size: {
    type: "string",
    help:
      "Image side the networks are built for (default: 256 for unet_256/resnet_9blocks, 128 for the 128 nets).",
    metavar: "N",
  },
  "in-channels": {
    type: "string",
    help: "Generator input channels; read from the file if absent.",
    metavar: "N",
  },
  "out-channels": {
    type: "string",
    help: "Generator output channels; read from the file if absent.",
    metavar: "N",
  },
  direction: {
    type: "string",
    help: "Direction the model was trained in (recorded in config.json).",
    default: "AtoB",
    choices: ["AtoB", "BtoA"],
  },
  out: {
    type: "string",
    help:
      "Checkpoint directory to write (written atomically; never over a folder p2p did not write).",
    metavar: "DIR",
    path: true,
  },
  force: {
    type: "boolean",
    help:
      "Replace a p2p checkpoint already at --out (or its discriminator, when adding one).",
    default: false,
  },
};

function optionalInt(v: FlagValues, name: string): number | undefined {
  return v[name] === undefined ? undefined : intFlag(v, name);
}

async function importFile(
  file: string,
  options: ImportOptions,
): Promise<ImportResult> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const sd = await loadStateDict(bytes, file);
  return importStateDict(sd, { ...options, label: file });
}

function describe(r: ImportResult, file: string): string {
  const c = r.config as unknown as Record<string, unknown>;
  const sizes = Object.entries(c)
    .filter(([k]) => !["kind", "seed", "bias", "padding", "output"].includes(k))
    .map(([k, v]) => `${k} ${v}`).join(", ");
  return `${file}: ${r.role} ${c.kind} (${sizes}), ${
    r.model.trainableWeights.reduce((n, w) =>
      n + w.shape.reduce((a, b) => a! * b!, 1)!, 0)
  } parameters${
    r.ignored.length ? `; ignored ${r.ignored.length} num_batches_tracked` : ""
  }`;
}

/** Whether `dir` holds a p2p checkpoint (its config.json says so), marker or not. */
async function isCheckpoint(dir: string): Promise<boolean> {
  try {
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    return config?.format === CHECKPOINT_FORMAT;
  } catch {
    return false;
  }
}

/** Marks a checkpoint folder as p2p's, so later commands recognise it. */
async function markCheckpoint(dir: string): Promise<void> {
  await writeFileAtomic(
    `${dir}/${ARTEFACT_MARKER}`,
    markerBytes(ARTEFACT_KINDS.checkpoint),
  );
}

/**
 * Saves an imported checkpoint atomically and marks it as p2p's; a failed
 * write names the folder (and a full disk) and leaves what was there intact.
 */
async function saveImported(
  out: string,
  state: CheckpointState,
): Promise<void> {
  try {
    await saveCheckpoint(out, state);
  } catch (e) {
    throw new Error(writeFailure(out, e));
  }
  await markCheckpoint(out);
}

/** Refuses to add a discriminator over state the checkpoint holds, unless forced. */
async function checkAddingDiscriminator(
  out: string,
  net: string,
  force: boolean,
): Promise<void> {
  if (!(await isCheckpoint(out))) {
    throw new UsageError(
      `--net ${net} imports a discriminator, and a p2p checkpoint needs a generator: import the generator first (--pth G.pth --net unet_256 --out ${out}), or give both (--pth G.pth --net … --pth-d D.pth --net-d ${net})`,
    );
  }
  const held = [];
  if (await exists(`${out}/discriminator`)) held.push("a discriminator");
  if (await exists(`${out}/optimizer.json`)) held.push("optimizer state");
  if (held.length && !force) {
    throw new UsageError(
      `--out ${out} holds ${
        held.join(" and ")
      } that adding this discriminator would replace; pass --force to replace ${
        held.length > 1 ? "them" : "it"
      }`,
    );
  }
}

async function main(): Promise<void> {
  const v = parseFlags(Deno.args, USAGE, IMPORT_FLAGS);
  if (!v) return;
  for (const f of ["pth", "net", "out"]) {
    if (!v[f]) throw new UsageError(`--${f} is required\n${USAGE}`);
  }
  const out = (v.out as string).replace(/\/+$/, "") || "/";
  const net = v.net as ReferenceNet;
  const force = v.force as boolean;
  // Refuse a bad --out before reading anything (a discriminator alone is
  // added to an existing checkpoint instead: checked once its role is known).
  if (!D_NETS.includes(net)) {
    await checkOutputDir(out, ARTEFACT_KINDS.checkpoint, {
      force,
      recognise: isCheckpoint,
    });
  }
  await tf.setBackend("cpu");
  const size = optionalInt(v, "size");
  const norm = v.norm as "batch" | "instance" | undefined;
  const first = await importFile(v.pth as string, {
    net,
    norm,
    ngf: optionalInt(v, D_NETS.includes(net) ? "ndf" : "ngf"),
    inChannels: optionalInt(v, "in-channels"),
    outChannels: optionalInt(v, "out-channels"),
    size,
  });
  console.log(asGiven(describe(first, v.pth as string)));

  if (first.role === "discriminator") {
    // A discriminator alone is added to an existing checkpoint.
    if (v["pth-d"]) {
      throw new UsageError(
        `--net ${net} is a discriminator; give the generator with --pth and the discriminator with --pth-d`,
      );
    }
    await checkAddingDiscriminator(out, net, force);
    const ckpt = await loadCheckpoint(out, { optimizer: false });
    await saveImported(out, {
      generator: ckpt.generator,
      generatorConfig: ckpt.config.generator,
      discriminator: first.model,
      discriminatorConfig: first.config as DiscriminatorConfig,
      train: {
        ...ckpt.config.train,
        importedDiscriminator: { file: v.pth, net },
      },
      data: ckpt.config.data,
      epoch: ckpt.config.epoch,
      step: ckpt.config.step,
      rng: ckpt.config.rng,
      dropout: ckpt.config.dropout,
    });
    console.log(asGiven(`added the discriminator to ${out}`));
    return;
  }

  const g = first.config as GeneratorConfig;
  let discriminator: ImportResult | null = null;
  if (v["pth-d"]) {
    const inC = g.inChannels ?? 3, outC = g.outChannels ?? 3;
    discriminator = await importFile(v["pth-d"] as string, {
      net: v["net-d"] as ReferenceNet,
      norm,
      ngf: optionalInt(v, "ndf"),
      inChannels: inC,
      outChannels: outC,
      size: g.size ?? null,
    });
    console.log(asGiven(describe(discriminator, v["pth-d"] as string)));
  }
  const side = g.size ?? (g.kind === "unet" ? 2 ** (g.depth ?? 8) : 256);
  await saveImported(out, {
    generator: first.model,
    generatorConfig: g,
    discriminator: discriminator?.model ?? null,
    discriminatorConfig: (discriminator?.config as DiscriminatorConfig) ??
      null,
    train: {
      preset: "reference",
      importedFrom: {
        generator: { file: v.pth, net },
        ...(discriminator
          ? { discriminator: { file: v["pth-d"], net: v["net-d"] } }
          : {}),
      },
    },
    data: {
      direction: v.direction as "AtoB" | "BtoA",
      inChannels: g.inChannels ?? 3,
      outChannels: g.outChannels ?? 3,
      size: side,
      source: `imported from ${v.pth}`,
    },
  });
  console.log(asGiven(`wrote ${out}`));
}

if (import.meta.main) await runMain(main);
