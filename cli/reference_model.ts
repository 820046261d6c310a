/**
 * One loader for every command that runs a model: a p2p checkpoint folder
 * (`config.json`), the reference's checkpoint folder (`DIR/NAME/` holding
 * `latest_net_G.pth` or `<epoch>_net_G.pth`, e.g. what `deno task pretrained`
 * downloads) or a single reference `.pth` file. Reference files carry no
 * configuration: the architecture is read from the weights unless stated.
 *
 * @module
 */
import {
  type DiscriminatorConfig,
  type GeneratorConfig,
  type LayersModel,
  readReferenceCheckpoint,
  readReferenceNetwork,
  type ReadReferenceOptions,
  referenceCheckpointPath,
  type ReferenceNet,
} from "@p2p/interop";
import { exists } from "@p2p/internal";
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointConfig,
  loadCheckpoint,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
} from "@p2p/train";

/** Options of {@linkcode loadAnyCheckpoint}. */
export interface LoadAnyOptions extends LoadCheckpointOptions {
  /** The reference checkpoint's label (`--epoch`): `latest` or an epoch number. @default "latest" */
  epoch?: string;
  /** What the reference's flags state about its networks (the rest is inferred). */
  reference?: ReadReferenceOptions;
}

/** What kind of checkpoint `path` is: `p2p`, a reference `folder`, a reference `file`, or null. */
export async function checkpointKind(
  path: string,
): Promise<"p2p" | "folder" | "file" | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return null;
  }
  if (info.isFile) return /\.pth?$/i.test(path) ? "file" : null;
  if (await exists(`${path}/config.json`)) return "p2p";
  for await (const e of Deno.readDir(path)) {
    if (e.isFile && /_net_G\.pth$/.test(e.name)) return "folder";
  }
  return null;
}

const DEFAULT_SIDE: Partial<Record<ReferenceNet, number>> = {
  unet_128: 128,
  resnet_6blocks: 128,
};

/** The p2p configuration describing reference networks (`config.json`'s shape). */
export function referenceConfig(
  generator: GeneratorConfig,
  discriminator: DiscriminatorConfig | null,
  info: {
    netG: ReferenceNet;
    netD: ReferenceNet | null;
    step: number;
    source: string;
  },
): CheckpointConfig {
  const g = generator as { inChannels?: number; outChannels?: number };
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    generator,
    discriminator,
    train: { reference: true, netG: info.netG, netD: info.netD },
    data: {
      direction: "AtoB",
      inChannels: g.inChannels ?? 3,
      outChannels: g.outChannels ?? 3,
      size: DEFAULT_SIDE[info.netG] ?? 256,
      source: info.source,
    },
    epoch: 0,
    step: info.step,
    progress: null,
    rng: null,
    dropout: null,
    savedAt: new Date(0).toISOString(),
  };
}

/**
 * Loads a p2p checkpoint, a reference checkpoint folder or a reference `.pth`
 * as a {@linkcode LoadedCheckpoint} (reference ones have no optimizer
 * state). Errors name `path` and say what was expected.
 */
export async function loadAnyCheckpoint(
  path: string,
  options: LoadAnyOptions = {},
): Promise<LoadedCheckpoint> {
  const kind = await checkpointKind(path);
  const ref = options.reference ?? {};
  if (kind === "file") {
    if (options.discriminator) {
      throw new Error(
        `${path} is one reference network file; give the folder that holds <epoch>_net_G.pth and _net_D.pth for the discriminator`,
      );
    }
    const g = await readReferenceNetwork(path, "generator", ref);
    const config = referenceConfig(g.result.config as GeneratorConfig, null, {
      netG: g.net,
      netD: null,
      step: g.step,
      source: path,
    });
    return {
      dir: path,
      config,
      generator: g.result.model,
      discriminator: null,
      optimizer: null,
    };
  }
  if (kind === "folder") {
    const label = options.epoch ?? "latest";
    if (!(await exists(referenceCheckpointPath(path, label, "G")))) {
      const found: string[] = [];
      for await (const e of Deno.readDir(path)) {
        if (/_net_G\.pth$/.test(e.name)) found.push(e.name);
      }
      throw new Error(
        `${path} holds no ${label}_net_G.pth (it has ${
          found.sort().join(", ")
        }); give one of those files itself as --checkpoint`,
      );
    }
    const r = await readReferenceCheckpoint(path, label, {
      ...ref,
      discriminator: options.discriminator ? true : false,
    });
    const config = referenceConfig(
      r.generator.config as GeneratorConfig,
      (r.discriminator?.config ?? null) as DiscriminatorConfig | null,
      { netG: r.netG, netD: r.netD, step: r.step, source: path },
    );
    return {
      dir: path,
      config,
      generator: r.generator.model,
      discriminator: r.discriminator?.model ?? null,
      optimizer: null,
    };
  }
  if (kind === null && (await exists(path))) {
    throw new Error(
      `${path} is neither a p2p checkpoint (config.json) nor a reference checkpoint (a folder holding latest_net_G.pth or <epoch>_net_G.pth, or a .pth file)`,
    );
  }
  return await loadCheckpoint(path, options);
}

/** The generator of any checkpoint {@linkcode loadAnyCheckpoint} reads. */
export async function loadAnyGenerator(
  path: string,
  options: Omit<LoadAnyOptions, "discriminator" | "optimizer"> = {},
): Promise<{ generator: LayersModel; config: CheckpointConfig }> {
  const c = await loadAnyCheckpoint(path, {
    ...options,
    discriminator: false,
    optimizer: false,
  });
  return { generator: c.generator, config: c.config };
}
