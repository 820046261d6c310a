/**
 * The reference's checkpoint folder, both ways: `DIR/NAME/<label>_net_G.pth`
 * and `<label>_net_D.pth` (`latest`, or an epoch number), each a
 * `torch.save(net.state_dict())` with the reference's key names. p2p writes
 * them from its models and reads them into its models, inferring the
 * architecture (`--netG`/`--netD`, norm, ngf/ndf, channels) from the keys and
 * shapes where the reference stores no configuration.
 *
 * @module
 */
import {
  buildGenerator,
  type DiscriminatorConfig,
  type GeneratorConfig,
  type LayersModel,
} from "@p2p/models";
import { exists, writeFileAtomic } from "@p2p/internal";
import {
  exportStateDict,
  type ImportResult,
  importStateDict,
  type ReferenceNet,
} from "./convert.ts";
import { inferArchitecture } from "./reference_keys.ts";
import { loadStateDict, type StateDict } from "./torch_load.ts";
import { saveStateDict } from "./torch_save.ts";

/** The networks and configurations {@linkcode writeReferenceCheckpoint} writes. */
export interface ReferenceCheckpointNetworks {
  /** The generator (written as `<label>_net_G.pth`). */
  generator: LayersModel;
  /** The discriminator (written as `<label>_net_D.pth`); omitted or null writes none. */
  discriminator?: LayersModel | null;
  /** Their p2p configurations. */
  configs: {
    /** The generator's configuration. */
    generator: GeneratorConfig;
    /** The discriminator's configuration (required with `discriminator`). */
    discriminator?: DiscriminatorConfig | null;
  };
  /** Value of every BatchNorm `num_batches_tracked` (the run's step). @default 0 */
  step?: number;
}

/** The path of a reference network file: `DIR/<label>_net_<G|D>.pth`. */
export function referenceCheckpointPath(
  dir: string,
  label: string | number,
  net: "G" | "D",
): string {
  const l = String(label);
  if (!/^[A-Za-z0-9_.-]+$/.test(l) || l.includes("..")) {
    throw new RangeError(
      `checkpoint label must be "latest", an epoch number or a plain name, received "${l}"`,
    );
  }
  return `${dir.replace(/\/+$/, "")}/${l}_net_${net}.pth`;
}

/**
 * Writes p2p networks as the reference's checkpoint files
 * `DIR/<label>_net_G.pth` (and `_net_D.pth`), atomically, creating `DIR`.
 * `torch.load` + `net.load_state_dict(…, strict=True)` of the reference's
 * networks accepts them. Returns the paths written.
 *
 * @example
 * ```ts
 * import { unet } from "@p2p/models";
 * import { readReferenceCheckpoint, writeReferenceCheckpoint } from "@p2p/interop";
 * const dir = await Deno.makeTempDir();
 * const config = { kind: "unet" as const, depth: 5, ngf: 4, size: 32, bias: "reference" as const };
 * const g = unet(config);
 * await writeReferenceCheckpoint(dir, "latest", { generator: g, configs: { generator: config } });
 * const back = await readReferenceCheckpoint(dir, "latest");
 * console.log(back.netG, back.generator.config.kind); // unet unet
 * back.generator.model.dispose();
 * g.dispose();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeReferenceCheckpoint(
  dir: string,
  label: string | number,
  networks: ReferenceCheckpointNetworks,
): Promise<string[]> {
  const step = networks.step ?? 0;
  const jobs: [string, Uint8Array][] = [];
  const g = exportStateDict(networks.generator, networks.configs.generator, {
    numBatchesTracked: step,
  });
  jobs.push([referenceCheckpointPath(dir, label, "G"), saveStateDict(g)]);
  if (networks.discriminator) {
    const dc = networks.configs.discriminator;
    if (!dc) {
      throw new TypeError(
        "writeReferenceCheckpoint: configs.discriminator is required with a discriminator",
      );
    }
    const d = exportStateDict(networks.discriminator, dc, {
      numBatchesTracked: step,
    });
    jobs.push([referenceCheckpointPath(dir, label, "D"), saveStateDict(d)]);
  }
  await Deno.mkdir(dir, { recursive: true });
  for (const [path, bytes] of jobs) await writeFileAtomic(path, bytes);
  return jobs.map(([p]) => p);
}

/**
 * The reference network a state dict holds, read from its keys: `unet_256`
 * / `unet_128` (depth 8 / 7) or `unet` with the depth read from the nesting,
 * `resnet_9blocks` / `resnet_6blocks` / `resnet`, `basic` / `n_layers` /
 * `pixel`. Throws naming `label` when the keys fit none.
 */
export function inferReferenceNet(
  stateDict: StateDict,
  role: "generator" | "discriminator",
  label = "state dict",
): ReferenceNet {
  const keys = [...stateDict.keys()];
  if (role === "generator") {
    const u = inferArchitecture("unet", keys);
    if (u?.kind === "unet") {
      return u.depth === 8 ? "unet_256" : u.depth === 7 ? "unet_128" : "unet";
    }
    const r = inferArchitecture("resnet", keys);
    if (r?.kind === "resnet" && r.blocks > 0) {
      return r.blocks === 9
        ? "resnet_9blocks"
        : r.blocks === 6
        ? "resnet_6blocks"
        : "resnet";
    }
  } else {
    const p = inferArchitecture("patch", keys);
    if (p?.kind === "patch") {
      return p.layers === 0 ? "pixel" : p.layers === 3 ? "basic" : "n_layers";
    }
  }
  throw new Error(
    `${label}: the keys fit no reference ${role} (unet_*, resnet_*${
      role === "discriminator" ? "; basic, n_layers, pixel" : ""
    }); first keys: ${keys.slice(0, 4).join(", ")}`,
  );
}

/** Options of {@linkcode readReferenceCheckpoint} and {@linkcode readReferenceNetwork}: the reference's flags, each inferred from the file when absent. */
export interface ReadReferenceOptions {
  /** `--netG`. @default inferred from the keys */
  netG?: ReferenceNet;
  /** `--netD`. @default inferred from the keys */
  netD?: ReferenceNet;
  /** `--norm`. @default inferred: batch when the file has running statistics */
  norm?: "batch" | "instance";
  /** `--ngf`. @default inferred */
  ngf?: number;
  /** `--ndf`. @default inferred */
  ndf?: number;
  /** `--input_nc`. @default inferred */
  inputNc?: number;
  /** `--output_nc`. @default inferred */
  outputNc?: number;
  /** `--no_dropout` given: the U-Net is built without dropout (same keys). @default false */
  noDropout?: boolean;
  /** Fixed input side; null builds size-agnostic networks. @default null */
  size?: number | null;
  /** Read `_net_D.pth` too: `true` requires it, `"if-present"` reads it when it exists. @default "if-present" */
  discriminator?: boolean | "if-present";
}

/** A reference checkpoint read into p2p networks. */
export interface ReferenceCheckpoint {
  /** The generator, its configuration and the keys read but not needed. */
  generator: ImportResult;
  /** The discriminator, or null when not read. */
  discriminator: ImportResult | null;
  /** The generator's reference name (`--netG`), as given or inferred. */
  netG: ReferenceNet;
  /** The discriminator's reference name, or null. */
  netD: ReferenceNet | null;
  /** The files read. */
  files: string[];
  /** `num_batches_tracked` of the generator's first BatchNorm (0 when none). */
  step: number;
}

/**
 * Reads one reference network file (`.pth`) into a p2p network, inferring
 * what `options` does not state.
 */
export async function readReferenceNetwork(
  path: string,
  role: "generator" | "discriminator",
  options: ReadReferenceOptions = {},
): Promise<{ net: ReferenceNet; result: ImportResult; step: number }> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`reference checkpoint ${path} does not exist`);
    }
    throw e;
  }
  const sd = await loadStateDict(bytes, path);
  const gen = role === "generator";
  const net = (gen ? options.netG : options.netD) ??
    inferReferenceNet(sd, role, path);
  let result = importStateDict(sd, {
    net,
    norm: options.norm,
    ngf: gen ? options.ngf : options.ndf,
    inChannels: options.inputNc,
    outChannels: options.outputNc,
    size: options.size ?? null,
    label: path,
  });
  if (gen && options.noDropout && result.config.kind === "unet") {
    const config: GeneratorConfig = { ...result.config, dropout: "none" };
    const model = buildGenerator(config);
    model.setWeights(result.model.getWeights());
    result.model.dispose();
    result = { ...result, config, model };
  }
  const counter = [...sd.entries()].find(([k]) =>
    k.endsWith(".num_batches_tracked")
  );
  const step = counter ? Number(counter[1].data[0]) : 0;
  return { net, result, step };
}

/**
 * Reads the reference's `DIR/<label>_net_G.pth` (and `_net_D.pth`) into p2p
 * networks; the caller disposes `generator.model` and `discriminator?.model`.
 */
export async function readReferenceCheckpoint(
  dir: string,
  label: string | number,
  options: ReadReferenceOptions = {},
): Promise<ReferenceCheckpoint> {
  const gPath = referenceCheckpointPath(dir, label, "G");
  const dPath = referenceCheckpointPath(dir, label, "D");
  const g = await readReferenceNetwork(gPath, "generator", options);
  const wantD = options.discriminator ?? "if-present";
  if (wantD === false || (wantD === "if-present" && !(await exists(dPath)))) {
    return {
      generator: g.result,
      discriminator: null,
      netG: g.net,
      netD: null,
      files: [gPath],
      step: g.step,
    };
  }
  try {
    const d = await readReferenceNetwork(dPath, "discriminator", options);
    return {
      generator: g.result,
      discriminator: d.result,
      netG: g.net,
      netD: d.net,
      files: [gPath, dPath],
      step: g.step,
    };
  } catch (e) {
    g.result.model.dispose();
    throw e;
  }
}
