/**
 * Weights between PyTorch reference state dicts and p2p models: key names
 * from {@linkcode referenceModules}, layouts as in the reference facts
 * (conv `[out, in, kh, kw]` ↔ `[kh, kw, in, out]`, transposed conv
 * `[in, out, kh, kw]` ↔ `[kh, kw, out, in]`, BatchNorm weight/bias/running
 * statistics ↔ gamma/beta/moving mean/moving variance). Every value is
 * copied exactly (float32), so a round trip is lossless.
 *
 * @module
 */
import { oneOf } from "@p2p/internal";
import * as tf from "@tensorflow/tfjs";
import {
  buildDiscriminator,
  buildGenerator,
  type DiscriminatorConfig,
  type GeneratorConfig,
  type LayersModel,
} from "@p2p/models";
import {
  inferArchitecture,
  type ReferenceArchitecture,
  referenceModules,
} from "./reference_keys.ts";
import { type StateDict, toFloat32, type TorchTensor } from "./torch_load.ts";

/** Names of the reference's networks (`--netG`/`--netD`), plus size-inferring `unet`/`resnet`. */
export type ReferenceNet =
  | "unet_256"
  | "unet_128"
  | "unet"
  | "resnet_9blocks"
  | "resnet_6blocks"
  | "resnet"
  | "basic"
  | "n_layers"
  | "pixel";

/** Valid {@linkcode ReferenceNet} values. */
export const REFERENCE_NETS: readonly ReferenceNet[] = [
  "unet_256",
  "unet_128",
  "unet",
  "resnet_9blocks",
  "resnet_6blocks",
  "resnet",
  "basic",
  "n_layers",
  "pixel",
];

/** A generator or discriminator configuration. */
export type NetworkConfig = GeneratorConfig | DiscriminatorConfig;

/** Options of {@linkcode importStateDict}. */
export interface ImportOptions {
  /** The reference network the state dict belongs to. */
  net: ReferenceNet;
  /** Normalisation (`--norm`). @default inferred: "batch" when the file has running statistics */
  norm?: "batch" | "instance";
  /** Filters of the first layer (`--ngf`, or `--ndf` for discriminators). @default inferred from the first convolution */
  ngf?: number;
  /** U-Net depth for `net: "unet"`. @default inferred from the nesting */
  depth?: number;
  /** Residual blocks for `net: "resnet"`. @default inferred */
  blocks?: number;
  /** PatchGAN layers for `net: "n_layers"`. @default inferred */
  layers?: number;
  /** Input channels (generator) or source channels (discriminator). @default inferred */
  inChannels?: number;
  /** Output channels (generator) or target channels (discriminator). @default inferred */
  outChannels?: number;
  /** Fixed input side of the built model; null accepts any valid side. @default 256 for unet_256/resnet_9blocks, 128 for unet_128/resnet_6blocks, else null */
  size?: number | null;
  /** Name of the source in error messages. @default "state dict" */
  label?: string;
}

/** A p2p network built from a reference state dict. */
export interface ImportResult {
  /** Whether the network is a generator or a discriminator. */
  role: "generator" | "discriminator";
  /** The p2p configuration (`buildGenerator`/`buildDiscriminator` rebuilds it). */
  config: NetworkConfig;
  /** The model, weights set. */
  model: LayersModel;
  /** Keys read but not needed (`num_batches_tracked`). */
  ignored: string[];
}

/** A weight with a shape that differs from what the network expects. */
export interface ShapeMismatch {
  /** The reference key. */
  key: string;
  /** Shape in the file (PyTorch layout). */
  found: number[];
  /** Shape the network needs (PyTorch layout). */
  expected: number[];
}

/** A state dict that does not fit the network: lists every key at fault. */
export class StateDictMismatchError extends Error {
  /** Keys the network needs that the file lacks. */
  readonly missing: string[];
  /** Keys in the file the network does not have. */
  readonly unexpected: string[];
  /** Keys whose shapes differ. */
  readonly mismatched: ShapeMismatch[];

  /** Creates the error; the message lists all keys. */
  constructor(
    what: string,
    missing: string[],
    unexpected: string[],
    mismatched: ShapeMismatch[],
    hint?: string,
  ) {
    const parts = [`${what} does not match:`];
    if (missing.length) {
      parts.push(`  missing keys (${missing.length}): ${missing.join(", ")}`);
    }
    if (unexpected.length) {
      parts.push(
        `  unexpected keys (${unexpected.length}): ${unexpected.join(", ")}`,
      );
    }
    if (mismatched.length) {
      parts.push(
        `  shape mismatches (${mismatched.length}): ${
          mismatched.map((m) =>
            `${m.key} is [${m.found}] in the file, the network needs [${m.expected}]`
          ).join("; ")
        }`,
      );
    }
    if (hint) parts.push(`  hint: ${hint}`);
    super(parts.join("\n"));
    this.name = "StateDictMismatchError";
    this.missing = missing;
    this.unexpected = unexpected;
    this.mismatched = mismatched;
  }
}

/** One tensor of the correspondence between a p2p weight and a reference key. */
interface Slot {
  key: string;
  layer: tf.layers.Layer;
  index: number;
  /** tfjs shape. */
  shape: number[];
  /** Whether the tensor is a (transposed) convolution kernel. */
  kernel: boolean;
}

const PARAM_KEYS: Record<string, string> = {
  kernel: "weight",
  bias: "bias",
  gamma: "weight",
  beta: "bias",
  moving_mean: "running_mean",
  moving_variance: "running_var",
};

function slots(
  model: LayersModel,
  arch: ReferenceArchitecture,
): { slots: Slot[]; counters: string[] } {
  const modules = referenceModules(arch);
  const out: Slot[] = [];
  const counters: string[] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const path = modules.get(layer.name);
    if (!path) {
      throw new Error(
        `layer ${layer.name} of ${model.name} has weights but no counterpart in the reference's ${arch.kind} network`,
      );
    }
    layer.weights.forEach((w, index) => {
      const param = w.originalName.split("/").pop()!;
      const suffix = PARAM_KEYS[param];
      if (!suffix) {
        throw new Error(
          `weight ${w.originalName} has no reference counterpart`,
        );
      }
      out.push({
        key: `${path}.${suffix}`,
        layer,
        index,
        shape: w.shape as number[],
        kernel: param === "kernel",
      });
    });
    if (layer.getClassName() === "BatchNormalization") {
      counters.push(`${path}.num_batches_tracked`);
    }
  }
  return { slots: out, counters };
}

/** The reference (PyTorch) shape of a tfjs kernel shape `[kh, kw, a, b]`: `[b, a, kh, kw]`. */
function torchShape(slot: Slot): number[] {
  const s = slot.shape;
  return slot.kernel ? [s[3], s[2], s[0], s[1]] : s.slice();
}

/**
 * Permutes a 4-D array: `[kh, kw, a, b]` → `[b, a, kh, kw]` when `toTorch`,
 * else the inverse. Both directions are used for conv (`a` = in, `b` = out)
 * and transposed conv (`a` = out, `b` = in) alike.
 */
function permuteKernel(
  src: Float32Array,
  tfShape: number[],
  toTorch: boolean,
): Float32Array {
  const [kh, kw, a, b] = tfShape;
  const out = new Float32Array(src.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < a; i++) {
        for (let o = 0; o < b; o++) {
          const tfIndex = ((y * kw + x) * a + i) * b + o;
          const tIndex = ((o * a + i) * kh + y) * kw + x;
          if (toTorch) out[tIndex] = src[tfIndex];
          else out[tfIndex] = src[tIndex];
        }
      }
    }
  }
  return out;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Sets the weights of `model` from a reference state dict, given the
 * reference architecture it corresponds to. Every missing, unexpected and
 * mis-shaped key is reported at once in a {@linkcode StateDictMismatchError}.
 * Returns the keys read but not needed (`num_batches_tracked`).
 */
export function loadStateDictInto(
  model: LayersModel,
  arch: ReferenceArchitecture,
  stateDict: StateDict,
  what = "state dict",
): string[] {
  const { slots: all, counters } = slots(model, arch);
  const expected = new Set(all.map((s) => s.key));
  const ignorable = new Set(counters);
  const missing = all.filter((s) => !stateDict.has(s.key)).map((s) => s.key);
  const unexpected = [...stateDict.keys()].filter((k) =>
    !expected.has(k) && !ignorable.has(k)
  );
  const mismatched: ShapeMismatch[] = [];
  for (const s of all) {
    const t = stateDict.get(s.key);
    if (t && !sameShape(t.shape, torchShape(s))) {
      mismatched.push({ key: s.key, found: t.shape, expected: torchShape(s) });
    }
  }
  if (missing.length || unexpected.length || mismatched.length) {
    throw new StateDictMismatchError(what, missing, unexpected, mismatched);
  }
  const byLayer = new Map<tf.layers.Layer, tf.Tensor[]>();
  for (const s of all) {
    const t = stateDict.get(s.key)!;
    const values = toFloat32(t);
    const data = s.kernel ? permuteKernel(values, s.shape, false) : values;
    const list = byLayer.get(s.layer) ?? [];
    list[s.index] = tf.tensor(data, s.shape, "float32");
    byLayer.set(s.layer, list);
  }
  for (const [layer, tensors] of byLayer) {
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
  return [...stateDict.keys()].filter((k) => ignorable.has(k));
}

/** Options of {@linkcode exportStateDict}. */
export interface ExportOptions {
  /** Value written to every BatchNorm `num_batches_tracked` (int64). @default 0 */
  numBatchesTracked?: number;
}

/**
 * The reference architecture of a p2p configuration, or an error saying why
 * the configuration has no exact counterpart in the PyTorch reference.
 */
export function referenceArchitecture(
  config: NetworkConfig,
): ReferenceArchitecture {
  switch (config.kind) {
    case "unet":
      if (config.bias === "all") {
        throw new RangeError(
          `a U-Net with bias "all" (Keras-style) has biases the reference lacks; only bias "reference" exports to PyTorch`,
        );
      }
      return { kind: "unet", depth: config.depth ?? 8 };
    case "resnet":
      return {
        kind: "resnet",
        blocks: config.blocks ?? 9,
        dropout: config.dropout ?? true,
      };
    case "patch":
      if (config.bias === "all" || config.padding === "same") {
        throw new RangeError(
          `a PatchGAN with bias "all" or padding "same" is not the reference's NLayerDiscriminator`,
        );
      }
      return { kind: "patch", layers: config.layers ?? 3 };
    default:
      throw new RangeError(
        `a "${config.kind}" network has no counterpart in the PyTorch reference`,
      );
  }
}

/**
 * The weights of a p2p model as a reference state dict: the reference's key
 * names and PyTorch layouts, float32, with an int64 `num_batches_tracked`
 * for every BatchNorm so that `load_state_dict(strict=True)` accepts it.
 *
 * @example
 * ```ts
 * import { unet } from "@p2p/models";
 * import { exportStateDict } from "@p2p/interop";
 * const config = { kind: "unet" as const, depth: 5, ngf: 4, size: 32 };
 * const sd = exportStateDict(unet(config), config);
 * console.log(sd.get("model.model.0.weight")?.shape); // [4, 3, 4, 4]
 * ```
 */
export function exportStateDict(
  model: LayersModel,
  config: NetworkConfig,
  options: ExportOptions = {},
): StateDict {
  const arch = referenceArchitecture(config);
  const { slots: all, counters } = slots(model, arch);
  const out: StateDict = new Map();
  const counterSet = new Set(counters);
  for (const s of all) {
    const w = s.layer.weights[s.index].read();
    const values = w.dataSync() as Float32Array;
    const data = s.kernel
      ? permuteKernel(values, s.shape, true)
      : Float32Array.from(values);
    out.set(s.key, { dtype: "float32", shape: torchShape(s), data });
    // Keep BatchNorm's counter right after its running variance, as PyTorch orders them.
    if (s.key.endsWith(".running_var")) {
      const c = s.key.replace(/running_var$/, "num_batches_tracked");
      if (counterSet.has(c)) {
        out.set(c, {
          dtype: "int64",
          shape: [],
          data: BigInt64Array.of(BigInt(options.numBatchesTracked ?? 0)),
        });
      }
    }
  }
  return out;
}

function firstConv(
  sd: StateDict,
  keys: string[],
): TorchTensor | undefined {
  for (const k of keys) {
    const t = sd.get(k);
    if (t && t.shape.length === 4) return t;
  }
  return undefined;
}

/**
 * Builds the p2p network that corresponds to a reference state dict and sets
 * its weights. Sizes not given in `options` are inferred from the file;
 * sizes that are given are checked against it (shape mismatches list the
 * keys).
 *
 * @example
 * ```ts ignore
 * import { importStateDict, loadStateDict } from "@p2p/interop";
 * const sd = await loadStateDict(await Deno.readFile("latest_net_G.pth"));
 * const { model, config } = importStateDict(sd, { net: "unet_256" });
 * ```
 */
export function importStateDict(
  stateDict: StateDict,
  options: ImportOptions,
): ImportResult {
  const net = options.net;
  oneOf("net", net, REFERENCE_NETS);
  const what = `${options.label ?? "state dict"} (as --net ${net})`;
  const keys = [...stateDict.keys()];
  const norm = options.norm ??
    (keys.some((k) => k.endsWith(".running_mean")) ? "batch" : "instance");
  if (norm !== "batch" && norm !== "instance") {
    throw new RangeError(
      `norm must be "batch" or "instance", received "${norm}"`,
    );
  }
  const notThis = (kind: string): never => {
    throw new Error(
      `${what}: the keys do not look like a reference ${kind} network (first keys: ${
        keys.slice(0, 6).join(", ")
      }); check --net`,
    );
  };
  let arch: ReferenceArchitecture;
  let config: NetworkConfig;
  let role: ImportResult["role"];
  if (net.startsWith("unet")) {
    const depth = net === "unet_256"
      ? 8
      : net === "unet_128"
      ? 7
      : options.depth ??
        (inferArchitecture("unet", keys) as { depth: number } | null)?.depth ??
        notThis("U-Net");
    arch = { kind: "unet", depth };
    const first = firstConv(stateDict, ["model.model.0.weight"]);
    const last = firstConv(stateDict, ["model.model.3.weight"]);
    role = "generator";
    config = {
      kind: "unet",
      depth,
      ngf: options.ngf ?? first?.shape[0] ?? 64,
      inChannels: options.inChannels ?? first?.shape[1] ?? 3,
      outChannels: options.outChannels ?? last?.shape[1] ?? 3,
      norm,
      dropout: "pytorch",
      bias: "reference",
      size: options.size !== undefined
        ? options.size
        : net === "unet_256"
        ? 256
        : net === "unet_128"
        ? 128
        : null,
      seed: 0,
    };
  } else if (net.startsWith("resnet")) {
    const inferred = inferArchitecture("resnet", keys) as
      | { blocks: number; dropout: boolean }
      | null;
    const blocks = net === "resnet_9blocks"
      ? 9
      : net === "resnet_6blocks"
      ? 6
      : options.blocks ?? inferred?.blocks ?? notThis("ResNet");
    arch = { kind: "resnet", blocks, dropout: inferred?.dropout ?? true };
    const first = firstConv(stateDict, ["model.1.weight"]);
    const last = firstConv(stateDict, [`model.${17 + blocks}.weight`]);
    role = "generator";
    config = {
      kind: "resnet",
      blocks,
      ngf: options.ngf ?? first?.shape[0] ?? 64,
      inChannels: options.inChannels ?? first?.shape[1] ?? 3,
      outChannels: options.outChannels ?? last?.shape[0] ?? 3,
      norm,
      dropout: arch.dropout,
      size: options.size !== undefined
        ? options.size
        : net === "resnet_9blocks"
        ? 256
        : net === "resnet_6blocks"
        ? 128
        : null,
      seed: 0,
    };
  } else {
    const layers = net === "basic" ? 3 : net === "pixel" ? 0 : options.layers ??
      (inferArchitecture("patch", keys) as { layers: number } | null)
        ?.layers ??
      notThis("NLayerDiscriminator");
    arch = { kind: "patch", layers };
    const first = firstConv(stateDict, ["model.0.weight", "net.0.weight"]);
    const total = first?.shape[1] ?? 6;
    let source = options.inChannels;
    let target = options.outChannels;
    if (source === undefined && target === undefined) {
      if (total % 2 !== 0) {
        throw new Error(
          `${what}: the discriminator takes ${total} channels; say how they split with --in-channels and --out-channels`,
        );
      }
      source = target = total / 2;
    } else {
      source ??= total - target!;
      target ??= total - source;
    }
    role = "discriminator";
    config = {
      kind: "patch",
      layers,
      ndf: options.ngf ?? first?.shape[0] ?? 64,
      sourceChannels: source,
      targetChannels: target,
      norm,
      bias: "reference",
      padding: "reference",
      output: "logits",
      size: options.size ?? null,
      seed: 1,
    };
  }
  const model = role === "generator"
    ? buildGenerator(config as GeneratorConfig)
    : buildDiscriminator(config as DiscriminatorConfig);
  try {
    const ignored = loadStateDictInto(model, arch, stateDict, what);
    return { role, config, model, ignored };
  } catch (e) {
    model.dispose();
    if (e instanceof StateDictMismatchError) {
      const hint = sizeHint(arch, keys);
      if (hint) {
        throw new StateDictMismatchError(
          what,
          e.missing,
          e.unexpected,
          e.mismatched,
          hint,
        );
      }
    }
    throw e;
  }
}

/** A suggestion when the file's keys describe another size of the same kind of network. */
function sizeHint(
  arch: ReferenceArchitecture,
  keys: string[],
): string | undefined {
  const found = inferArchitecture(arch.kind, keys);
  if (!found) return undefined;
  if (
    found.kind === "unet" && arch.kind === "unet" && found.depth !== arch.depth
  ) {
    const name = found.depth === 8
      ? "unet_256"
      : found.depth === 7
      ? "unet_128"
      : `unet (depth ${found.depth} is read from the file)`;
    return `the file holds a U-Net with ${found.depth} levels (num_downs ${found.depth}); try --net ${name}`;
  }
  if (
    found.kind === "resnet" && arch.kind === "resnet" &&
    found.blocks !== arch.blocks
  ) {
    const name = found.blocks === 9
      ? "resnet_9blocks"
      : found.blocks === 6
      ? "resnet_6blocks"
      : "resnet";
    return `the file holds a ResNet with ${found.blocks} blocks; try --net ${name}`;
  }
  if (
    found.kind === "patch" && arch.kind === "patch" &&
    found.layers !== arch.layers
  ) {
    const name = found.layers === 3 ? "basic" : "n_layers";
    return `the file holds a PatchGAN with n_layers ${found.layers}; try --net ${name}`;
  }
  return undefined;
}
