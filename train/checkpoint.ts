/**
 * Training checkpoints: one directory holding the configurations that build
 * both networks, the training options, G's and D's weights (G as tfjs
 * LayersModel artifacts a browser's `tf.loadLayersModel` opens), both Adam
 * states, the epoch and step counters and the RNG and dropout states, so a
 * run resumes at the exact step it stopped.
 *
 * Layout of a checkpoint directory:
 * - `config.json`: {@linkcode CheckpointConfig}.
 * - `generator/model.json` + `generator/weights.bin`: tfjs LayersModel
 *   artifacts. `SeededDropout` is written as a plain `Dropout`; the
 *   `InstanceNormalization` and `ReflectionPadding2D` layers (InstanceNorm
 *   and ResNet configurations) stay custom classes that a browser must
 *   register (they are in `@p2p/layers`) before `tf.loadLayersModel`.
 * - `discriminator/model.json` + `discriminator/weights.bin` (optional).
 * - `optimizer.json` + `optimizer.bin`: the Adam state of G and D (optional).
 *
 * Writes are atomic: everything goes to a sibling `DIR.tmp-<random>` first,
 * which then replaces `DIR`; if the process dies between the two renames the
 * previous checkpoint is at `DIR.old-<random>`, where
 * {@linkcode loadCheckpoint} finds it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  buildDiscriminator,
  buildGenerator,
  type DiscriminatorConfig,
  type GeneratorConfig,
  type LayersModel,
  modelArtifacts,
} from "@p2p/models";
import type { DropoutState } from "@p2p/layers";
import type { RngState } from "@p2p/data";
import {
  concatBytes,
  exists,
  TEMP_MARK,
  tempPathFor,
  writeNewFileSynced,
} from "@p2p/internal";
import type { AdamState } from "./optimizer.ts";
import type { OptimizerState, Trainer } from "./step.ts";

type NamedTensorList = { name: string; tensor: tf.Tensor }[];

/** The checkpoint format name written in `config.json`. */
export const CHECKPOINT_FORMAT = "p2p-checkpoint";
/** The checkpoint format version written in `config.json`. */
export const CHECKPOINT_VERSION = 1;

/** What the data a checkpoint was trained on looked like. */
export interface CheckpointData {
  /** Which side was the model input. */
  direction: "AtoB" | "BtoA";
  /** Channels of the model input. */
  inChannels: number;
  /** Channels of the model output. */
  outChannels: number;
  /** Training crop side. */
  size: number;
  /** Where the data came from (an embedded data set's name or a folder). */
  source?: string;
  /** Any further description. */
  [key: string]: unknown;
}

/** Where a run stands inside its current epoch (for exact resume). */
export interface EpochPosition {
  /** Batches done in `epoch`. */
  batchesDone: number;
  /** Pair indices of `epoch` in visiting order. */
  order: number[];
}

/** The contents of `config.json`. */
export interface CheckpointConfig {
  /** Always {@linkcode CHECKPOINT_FORMAT}. */
  format: typeof CHECKPOINT_FORMAT;
  /** Always {@linkcode CHECKPOINT_VERSION}. */
  version: typeof CHECKPOINT_VERSION;
  /** The generator's configuration (rebuilt with `buildGenerator`). */
  generator: GeneratorConfig;
  /** The discriminator's configuration, or `null` when none is stored. */
  discriminator: DiscriminatorConfig | null;
  /** The training options of the run. */
  train: Record<string, unknown>;
  /** The data's description. */
  data: CheckpointData;
  /** The epoch in progress or last completed (1-based; 0 before training). */
  epoch: number;
  /** Optimisation steps done in the whole run. */
  step: number;
  /** The position inside `epoch` (the field keeps its format-1 name); `null` when `epoch` is complete. */
  progress: EpochPosition | null;
  /** The data RNG's state after the last step. */
  rng: RngState | null;
  /** The dropout mask generator's state after the last step. */
  dropout: DropoutState | null;
  /** ISO time of writing. */
  savedAt: string;
}

/** What {@linkcode saveCheckpoint} writes. */
export interface CheckpointState {
  /** The generator. */
  generator: LayersModel;
  /** Its configuration. */
  generatorConfig: GeneratorConfig;
  /** The discriminator, if it is to be stored. */
  discriminator?: LayersModel | null;
  /** Its configuration (required with `discriminator`). */
  discriminatorConfig?: DiscriminatorConfig | null;
  /** A trainer whose two Adam states are stored (its models must be the ones above). */
  trainer?: Trainer | null;
  /** Training options. @default {} */
  train?: Record<string, unknown>;
  /** Data description. */
  data: CheckpointData;
  /** Epoch in progress or completed. @default 0 */
  epoch?: number;
  /** Steps done. @default 0 */
  step?: number;
  /** Progress in `epoch`. @default null */
  progress?: EpochPosition | null;
  /** Data RNG state. @default null */
  rng?: RngState | null;
  /** Dropout state. @default null */
  dropout?: DropoutState | null;
}

/** A checkpoint read back by {@linkcode loadCheckpoint}. */
export interface LoadedCheckpoint {
  /** The directory actually read (a recovered `DIR.old-*` if `DIR` was missing). */
  dir: string;
  /** `config.json`. */
  config: CheckpointConfig;
  /** The generator, rebuilt and with its weights set. */
  generator: LayersModel;
  /** The discriminator, or `null` when not stored or not asked for. */
  discriminator: LayersModel | null;
  /** The Adam states, or `null` when not stored or not asked for (dispose with {@linkcode disposeOptimizerState}). */
  optimizer: OptimizerState | null;
}

/** Options of {@linkcode loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Load the discriminator when stored. @default true */
  discriminator?: boolean;
  /** Load the Adam states when stored. @default true */
  optimizer?: boolean;
}

// ---------------------------------------------------------------- writing

function randomSuffix(): string {
  return crypto.randomUUID().slice(0, 8);
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 1) + "\n");
}

async function modelFiles(
  model: LayersModel,
): Promise<{ modelJson: Uint8Array; weights: Uint8Array }> {
  const a = await modelArtifacts(model);
  const modelJson = {
    format: "layers-model",
    generatedBy: a.generatedBy,
    convertedBy: "p2p",
    modelTopology: a.topology,
    weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs }],
  };
  return { modelJson: json(modelJson), weights: a.weights };
}

function adamFile(
  prefix: string,
  state: AdamState,
): { meta: Record<string, unknown>; tensors: NamedTensorList } {
  const tensors: NamedTensorList = [];
  for (const [name, t] of state.m) {
    tensors.push({ name: `${prefix}/${name}/m`, tensor: t });
  }
  for (const [name, t] of state.v) {
    tensors.push({ name: `${prefix}/${name}/v`, tensor: t });
  }
  return {
    meta: {
      iterations: state.iterations,
      accBeta1: state.accBeta1,
      accBeta2: state.accBeta2,
      slots: state.m.size,
    },
    tensors,
  };
}

async function optimizerFiles(
  trainer: Trainer,
): Promise<{ meta: Uint8Array; bin: Uint8Array }> {
  const state = await trainer.exportOptimizerState();
  const g = adamFile("generator", state.generator);
  const d = adamFile("discriminator", state.discriminator);
  const { data, specs } = await tf.io.encodeWeights([
    ...g.tensors,
    ...d.tensors,
  ]);
  const meta = {
    format: "p2p-adam",
    version: 1,
    generator: g.meta,
    discriminator: d.meta,
    weights: specs,
  };
  return { meta: json(meta), bin: new Uint8Array(data) };
}

function splitPath(dir: string): { parent: string; base: string } {
  const clean = dir.replace(/\/+$/, "");
  const i = clean.lastIndexOf("/");
  return i < 0
    ? { parent: ".", base: clean }
    : { parent: clean.slice(0, i) || "/", base: clean.slice(i + 1) };
}

/**
 * What an interrupted save of `dir` left beside it: `tmp` the unfinished new
 * checkpoints (`DIR.p2p-tmp-*`, or `DIR.tmp-*` from p2p before 0.2), `old`
 * the previous one moved aside (`DIR.old-*`).
 */
async function leftovers(dir: string, kind: "tmp" | "old"): Promise<string[]> {
  const { parent, base } = splitPath(dir);
  const marks = kind === "tmp"
    ? [`${base}${TEMP_MARK}`, `${base}.tmp-`]
    : [`${base}.old-`];
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(parent)) {
      if (marks.some((m) => e.name.startsWith(m))) {
        out.push(`${parent}/${e.name}`);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/**
 * Removes the unfinished checkpoints (`NAME.p2p-tmp-*`, `NAME.tmp-*`) that a
 * process killed while saving left in `checkpointsDir`; returns their paths.
 * The `NAME.old-*` a kill between the two renames leaves is kept: it is the
 * previous checkpoint, which {@linkcode loadCheckpoint} finds.
 */
export async function removeUnfinishedCheckpoints(
  checkpointsDir: string,
): Promise<string[]> {
  const removed: string[] = [];
  try {
    for await (const e of Deno.readDir(checkpointsDir)) {
      if (e.name.includes(TEMP_MARK) || /\.tmp-[0-9a-f]{8}$/.test(e.name)) {
        await Deno.remove(`${checkpointsDir}/${e.name}`, { recursive: true });
        removed.push(`${checkpointsDir}/${e.name}`);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return removed;
}

/**
 * Writes a checkpoint directory atomically (see the module doc): a crash at
 * any point leaves either the previous checkpoint or the new one.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { buildGenerator, preset } from "@p2p/models";
 * import { loadGenerator, saveCheckpoint } from "@p2p/train";
 *
 * await tf.setBackend("cpu");
 * const p = preset("reference", { size: 32, depth: 5, ngf: 2, ndf: 2 });
 * const dir = await Deno.makeTempDir();
 * await saveCheckpoint(`${dir}/latest`, {
 *   generator: buildGenerator(p.generator),
 *   generatorConfig: p.generator,
 *   data: { direction: "AtoB", inChannels: 3, outChannels: 3, size: 32 },
 * });
 * const { generator } = await loadGenerator(`${dir}/latest`);
 * console.log(generator.outputs[0].shape); // [null, 32, 32, 3]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  state: CheckpointState,
): Promise<CheckpointConfig> {
  if (state.discriminator && !state.discriminatorConfig) {
    throw new Error(
      `saveCheckpoint ${dir}: a discriminator needs its discriminatorConfig`,
    );
  }
  if (
    state.trainer &&
    (state.trainer.generator !== state.generator ||
      state.trainer.discriminator !== state.discriminator)
  ) {
    throw new Error(
      `saveCheckpoint ${dir}: the trainer's models are not the generator and discriminator being saved`,
    );
  }
  const config: CheckpointConfig = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    generator: state.generatorConfig,
    discriminator: state.discriminator ? state.discriminatorConfig! : null,
    train: state.train ?? {},
    data: state.data,
    epoch: state.epoch ?? 0,
    step: state.step ?? 0,
    progress: state.progress ?? null,
    rng: state.rng ?? null,
    dropout: state.dropout ?? null,
    savedAt: new Date().toISOString(),
  };
  // Serialise everything first, so a failure leaves the disk untouched.
  const g = await modelFiles(state.generator);
  const d = state.discriminator ? await modelFiles(state.discriminator) : null;
  const opt = state.trainer ? await optimizerFiles(state.trainer) : null;
  const files: [string, () => Uint8Array][] = [
    ["generator/model.json", () => g.modelJson],
    ["generator/weights.bin", () => g.weights],
    ...(d
      ? [["discriminator/model.json", () => d.modelJson], [
        "discriminator/weights.bin",
        () => d.weights,
      ]] as [string, () => Uint8Array][]
      : []),
    ...(opt
      ? [["optimizer.json", () => opt.meta], [
        "optimizer.bin",
        () => opt.bin,
      ]] as [
        string,
        () => Uint8Array,
      ][]
      : []),
    // config.json last: a directory with it is complete.
    ["config.json", () => json(config)],
  ];
  await replaceDir(dir, files);
  return config;
}

/** Writes `files` into a temporary folder beside `dir`, then puts it in `dir`'s place. */
async function replaceDir(
  dir: string,
  files: [string, () => Uint8Array][],
): Promise<void> {
  const clean = dir.replace(/\/+$/, "");
  await Deno.mkdir(splitPath(clean).parent, { recursive: true });
  for (const stale of await leftovers(clean, "tmp")) {
    await Deno.remove(stale, { recursive: true });
  }
  const tmp = tempPathFor(clean);
  try {
    for (const [name, bytes] of files) {
      if (name.includes("/")) {
        await Deno.mkdir(`${tmp}/${name.slice(0, name.lastIndexOf("/"))}`, {
          recursive: true,
        });
      }
      await writeNewFileSynced(`${tmp}/${name}`, bytes());
    }
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    const previous = await exists(`${clean}/config.json`)
      ? `the previous checkpoint '${clean}' is intact`
      : "no earlier checkpoint was there";
    throw new Error(
      `cannot save checkpoint '${clean}': ${(e as Error).message}; ${previous}`,
    );
  }
  if (await exists(clean)) {
    const old = `${clean}.old-${randomSuffix()}`;
    await Deno.rename(clean, old);
    await Deno.rename(tmp, clean);
    await Deno.remove(old, { recursive: true });
  } else {
    await Deno.rename(tmp, clean);
  }
  for (const stale of await leftovers(clean, "old")) {
    await Deno.remove(stale, { recursive: true });
  }
}

// ---------------------------------------------------------------- reading

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(
      `cannot read ${what} '${path}': ${(e as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${what} '${path}' is not valid JSON: ${(e as Error).message}`,
    );
  }
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new Error(`cannot read ${what} '${path}': ${(e as Error).message}`);
  }
}

/**
 * The directory to read for checkpoint `dir`: `dir` itself, or the previous
 * version a crash between the two renames of a save left at `dir.old-*`.
 */
export async function resolveCheckpointDir(dir: string): Promise<string> {
  const clean = dir.replace(/\/+$/, "");
  if (await exists(`${clean}/config.json`)) return clean;
  const olds = await leftovers(clean, "old");
  for (const old of olds.reverse()) {
    if (await exists(`${old}/config.json`)) return old;
  }
  if (await exists(clean)) {
    throw new Error(
      `'${clean}' is not a p2p checkpoint: config.json is missing`,
    );
  }
  throw new Error(`checkpoint '${clean}' does not exist`);
}

/** Reads and checks a checkpoint's `config.json`. */
export async function readCheckpointConfig(
  dir: string,
): Promise<CheckpointConfig> {
  const path = `${dir}/config.json`;
  const c = await readJson(path, "checkpoint config") as Partial<
    CheckpointConfig
  >;
  if (c?.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `'${path}': expected format "${CHECKPOINT_FORMAT}", received ${
        JSON.stringify(c?.format)
      }`,
    );
  }
  if (c.version !== CHECKPOINT_VERSION) {
    throw new Error(
      `'${path}': expected version ${CHECKPOINT_VERSION}, received ${
        JSON.stringify(c.version)
      } (written by another p2p version?)`,
    );
  }
  if (typeof c.generator !== "object" || c.generator === null) {
    throw new Error(`'${path}': the generator configuration is missing`);
  }
  return {
    ...c,
    discriminator: c.discriminator ?? null,
    train: c.train ?? {},
    epoch: c.epoch ?? 0,
    step: c.step ?? 0,
    progress: c.progress ?? null,
    rng: c.rng ?? null,
    dropout: c.dropout ?? null,
  } as CheckpointConfig;
}

/**
 * Throws, naming `file`, when it does not hold exactly the bytes `specs`
 * (listed in `listing`) take: a short file is called truncated.
 */
function checkLength(
  file: string,
  length: number,
  specs: tf.io.WeightsManifestEntry[],
  listing: string,
): void {
  const expected = specs.reduce(
    (s, w) =>
      s + w.shape.reduce((a, b) => a * b, 1) *
        (w.dtype === "int32" || w.dtype === "float32" ? 4 : 1),
    0,
  );
  if (length === expected) return;
  throw new Error(
    `'${file}' is ${
      length < expected ? "truncated" : "longer than expected"
    }: expected ${expected} bytes of weights as ${listing} lists, found ${length}${
      length < expected ? " (cut short by a crash or a copy?)" : ""
    }`,
  );
}

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

async function readWeights(
  dir: string,
): Promise<Map<string, tf.Tensor>> {
  const modelPath = `${dir}/model.json`;
  const model = await readJson(modelPath, "model") as {
    weightsManifest?: ManifestGroup[];
  };
  if (!Array.isArray(model?.weightsManifest)) {
    throw new Error(`'${modelPath}': weightsManifest is missing`);
  }
  const out = new Map<string, tf.Tensor>();
  for (const group of model.weightsManifest) {
    const buffers = await Promise.all(
      group.paths.map((p) => readBytes(`${dir}/${p}`, "weights")),
    );
    const total = buffers.reduce((s, b) => s + b.length, 0);
    checkLength(
      `${dir}/${group.paths.join(", ")}`,
      total,
      group.weights,
      "model.json",
    );
    const joined = concatBytes(buffers);
    const tensors = tf.io.decodeWeights(joined.buffer, group.weights);
    for (const [k, t] of Object.entries(tensors)) out.set(k, t);
  }
  return out;
}

/**
 * Sets every weight of `model` from `weights` by name, with errors naming
 * the checkpoint file, the weight and both shapes. Disposes `weights`.
 */
function setWeightsByName(
  model: LayersModel,
  weights: Map<string, tf.Tensor>,
  where: string,
): void {
  try {
    const missing: string[] = [];
    for (const w of model.weights) {
      const t = weights.get(w.originalName);
      if (!t) {
        missing.push(w.originalName);
        continue;
      }
      if (!tf.util.arraysEqual(t.shape, w.shape as number[])) {
        throw new Error(
          `'${where}': weight ${w.originalName} has shape [${t.shape}], the model built from config.json expects [${w.shape}]`,
        );
      }
    }
    if (missing.length > 0) {
      throw new Error(
        `'${where}': missing weights ${missing.slice(0, 5).join(", ")}${
          missing.length > 5 ? ` and ${missing.length - 5} more` : ""
        } that the model built from config.json has`,
      );
    }
    const extra = [...weights.keys()].filter((k) =>
      !model.weights.some((w) => w.originalName === k)
    );
    if (extra.length > 0) {
      throw new Error(
        `'${where}': weights ${
          extra.slice(0, 5).join(", ")
        } are not in the model built from config.json`,
      );
    }
    for (const w of model.weights) w.write(weights.get(w.originalName)!);
  } finally {
    for (const t of weights.values()) t.dispose();
  }
}

function buildChecked<T>(build: () => T, what: string, dir: string): T {
  try {
    return build();
  } catch (e) {
    throw new Error(
      `checkpoint '${dir}': cannot build the ${what} from config.json: ${
        (e as Error).message
      }`,
    );
  }
}

async function readOptimizer(dir: string): Promise<OptimizerState | null> {
  if (!(await exists(`${dir}/optimizer.json`))) return null;
  const meta = await readJson(`${dir}/optimizer.json`, "optimizer state") as {
    format?: string;
    generator: Omit<AdamState, "m" | "v">;
    discriminator: Omit<AdamState, "m" | "v">;
    weights: tf.io.WeightsManifestEntry[];
  };
  if (meta?.format !== "p2p-adam" || !Array.isArray(meta.weights)) {
    throw new Error(
      `'${dir}/optimizer.json': expected format "p2p-adam" with a weights list`,
    );
  }
  const bin = await readBytes(`${dir}/optimizer.bin`, "optimizer state");
  checkLength(
    `${dir}/optimizer.bin`,
    bin.length,
    meta.weights,
    "optimizer.json",
  );
  const tensors = tf.io.decodeWeights(bin.slice().buffer, meta.weights);
  const state = (prefix: string, m: Omit<AdamState, "m" | "v">): AdamState => {
    const out: AdamState = {
      iterations: m.iterations,
      accBeta1: m.accBeta1,
      accBeta2: m.accBeta2,
      m: new Map(),
      v: new Map(),
    };
    for (const [k, t] of Object.entries(tensors)) {
      if (!k.startsWith(`${prefix}/`)) continue;
      const rest = k.slice(prefix.length + 1);
      if (rest.endsWith("/m")) out.m.set(rest.slice(0, -2), t);
      else if (rest.endsWith("/v")) out.v.set(rest.slice(0, -2), t);
    }
    return out;
  };
  return {
    generator: state("generator", meta.generator),
    discriminator: state("discriminator", meta.discriminator),
  };
}

/** Disposes the tensors of an {@linkcode OptimizerState}. */
export function disposeOptimizerState(state: OptimizerState | null): void {
  if (!state) return;
  for (const s of [state.generator, state.discriminator]) {
    for (const t of [...s.m.values(), ...s.v.values()]) t.dispose();
  }
}

/**
 * Puts a checkpoint's Adam states into a fresh trainer (one that has taken
 * no step) built on the checkpoint's models. Matches moments to weights by
 * name. Does not dispose `state`.
 */
export async function restoreOptimizerState(
  trainer: Trainer,
  state: OptimizerState,
): Promise<void> {
  await trainer.importOptimizerState(state);
}

/**
 * Reads a checkpoint: rebuilds the networks from `config.json` with
 * `buildGenerator` / `buildDiscriminator`, sets their weights by name, and
 * reads the Adam states. Restoring the RNG, dropout state and counters is
 * the caller's (the training loop's) business.
 */
export async function loadCheckpoint(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const real = await resolveCheckpointDir(dir);
  const config = await readCheckpointConfig(real);
  const generator = buildChecked(
    () => buildGenerator(config.generator),
    "generator",
    real,
  );
  setWeightsByName(
    generator,
    await readWeights(`${real}/generator`),
    `${real}/generator/weights.bin`,
  );
  let discriminator: LayersModel | null = null;
  if (
    (options.discriminator ?? true) && config.discriminator &&
    await exists(`${real}/discriminator/model.json`)
  ) {
    discriminator = buildChecked(
      () => buildDiscriminator(config.discriminator!),
      "discriminator",
      real,
    );
    setWeightsByName(
      discriminator,
      await readWeights(`${real}/discriminator`),
      `${real}/discriminator/weights.bin`,
    );
  }
  const optimizer = (options.optimizer ?? true)
    ? await readOptimizer(real)
    : null;
  return { dir: real, config, generator, discriminator, optimizer };
}

/**
 * Loads only the generator of a checkpoint, for inference.
 *
 * @example
 * ```ts ignore
 * const { generator, config } = await loadGenerator("runs/demo/checkpoints/latest");
 * ```
 */
export async function loadGenerator(
  dir: string,
): Promise<{ generator: LayersModel; config: CheckpointConfig }> {
  const { generator, config } = await loadCheckpoint(dir, {
    discriminator: false,
    optimizer: false,
  });
  return { generator, config };
}
