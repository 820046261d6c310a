/**
 * Every training option, declared once ({@linkcode TRAIN_OPTIONS}): its type,
 * default, range or choices, help, whether `--resume` may change it, and the
 * reference's own spelling (`train.py`'s flag). The option types, the
 * defaults, validation, the CLI flags and `--help` all derive from this
 * table; adding an option is one row.
 *
 * Defaults are the reference's pix2pix (load 286 → crop 256 + flip,
 * unet_256, 70×70 PatchGAN, ngf = ndf = 64, batch norm, dropout, 100 + 100
 * epochs). With no data folder the `demo` recipe
 * ({@linkcode RECIPES}) applies instead: the embedded facades at 64×64, a
 * depth-6 U-Net with ngf = ndf = 16, 2 + 1 epochs.
 *
 * @module
 */
import { integerIn, numberIn, oneOf, received } from "@p2p/internal";
import { DATASET_NAMES, PREPROCESS_MODES } from "@p2p/data";
import { INIT_TYPES, PRESET_NAMES } from "@p2p/models";
import { GAN_MODES } from "./losses.ts";
import { SCHEDULE_POLICIES } from "./schedule.ts";

/** One row of {@linkcode TRAIN_OPTIONS}. */
export interface OptionSpec {
  /** Value type (`choice`: one of `choices`). */
  readonly kind: "string" | "integer" | "number" | "boolean" | "choice";
  /** Default (`null`: none, or derived from other options as `help` says). */
  readonly default: string | number | boolean | null;
  /** One line of help. */
  readonly help: string;
  /** Allowed values of a `choice` option. */
  readonly choices?: readonly (string | number)[];
  /** Smallest value of a number. */
  readonly min?: number;
  /** Largest value of a number. */
  readonly max?: number;
  /** Whether `--resume` may change it (the rest must match the run). */
  readonly resumable?: boolean;
  /** The reference's spelling of the flag (`--netG`), accepted as an alias. */
  readonly reference?: string;
  /** Placeholder of the value in `--help`. */
  readonly metavar?: string;
}

/** The training options: one row each. */
export const TRAIN_OPTIONS = {
  // ---- data
  data: {
    kind: "string",
    default: null,
    reference: "dataroot",
    metavar: "DIR",
    help:
      "Folder of paired images: AB images (A left, B right) or A/ + B/, optional train/ val/ test/ (none: the embedded --dataset).",
  },
  dataset: {
    kind: "choice",
    default: "facades",
    choices: DATASET_NAMES,
    metavar: "NAME",
    help: "Embedded procedural data set, used when --data is not given.",
  },
  count: {
    kind: "integer",
    default: 400,
    min: 1,
    metavar: "N",
    help: "Training pairs generated for --dataset.",
  },
  heldOut: {
    kind: "integer",
    default: 50,
    min: 1,
    resumable: true,
    metavar: "N",
    help:
      "Held-out pairs for the samples and the final evaluation (from val/, else test/).",
  },
  sampleRows: {
    kind: "integer",
    default: 4,
    min: 1,
    resumable: true,
    metavar: "N",
    help: "Rows (held-out pairs) of each sample grid.",
  },
  maxDatasetSize: {
    kind: "integer",
    default: null,
    min: 1,
    reference: "max_dataset_size",
    metavar: "N",
    help: "Use at most this many training pairs (none: all).",
  },
  serialBatches: {
    kind: "boolean",
    default: false,
    reference: "serial_batches",
    help: "Take pairs in order instead of shuffled.",
  },
  direction: {
    kind: "choice",
    default: "AtoB",
    choices: ["AtoB", "BtoA"],
    reference: "direction",
    metavar: "D",
    help: "AtoB: A is the input; BtoA: B is.",
  },
  inChannels: {
    kind: "choice",
    default: 3,
    choices: [1, 3],
    reference: "input_nc",
    metavar: "N",
    help: "Input channels: 1 grey or 3 RGB.",
  },
  outChannels: {
    kind: "choice",
    default: 3,
    choices: [1, 3],
    reference: "output_nc",
    metavar: "N",
    help: "Output channels: 1 grey or 3 RGB.",
  },
  preprocess: {
    kind: "choice",
    default: "resize_and_crop",
    choices: PREPROCESS_MODES,
    reference: "preprocess",
    metavar: "P",
    help: "Jitter: resize to --load-size then random crop to --size, ...",
  },
  loadSize: {
    kind: "integer",
    default: null,
    min: 1,
    reference: "load_size",
    metavar: "N",
    help:
      "Side images are resized to before cropping (none: size·286/256, 286 at 256).",
  },
  size: {
    kind: "integer",
    default: 256,
    min: 1,
    max: 4096,
    reference: "crop_size",
    metavar: "N",
    help: "Training image side (the crop).",
  },
  noFlip: {
    kind: "boolean",
    default: false,
    reference: "no_flip",
    help: "No random horizontal flips.",
  },
  // ---- networks
  preset: {
    kind: "choice",
    default: "reference",
    choices: PRESET_NAMES,
    metavar: "P",
    help: "Network family: the PyTorch reference, the Keras tutorial, ...",
  },
  generator: {
    kind: "choice",
    default: "unet_256",
    choices: [
      "unet_256",
      "unet_128",
      "unet",
      "resnet_9blocks",
      "resnet_6blocks",
    ],
    reference: "netG",
    metavar: "G",
    help: "Generator (unet: depth from --depth).",
  },
  depth: {
    kind: "integer",
    default: null,
    min: 1,
    max: 12,
    metavar: "N",
    help: "U-Net depth (none: 8 for unet_256, 7 for unet_128).",
  },
  discriminator: {
    kind: "choice",
    default: "basic",
    choices: ["basic", "n_layers", "pixel"],
    reference: "netD",
    metavar: "D",
    help: "Discriminator: 70×70 PatchGAN, n-layer PatchGAN or 1×1 PixelGAN.",
  },
  discriminatorLayers: {
    kind: "integer",
    default: 3,
    min: 1,
    max: 8,
    reference: "n_layers_D",
    metavar: "N",
    help: "Stride-2 layers of the n_layers discriminator.",
  },
  ngf: {
    kind: "integer",
    default: 64,
    min: 1,
    max: 1024,
    reference: "ngf",
    metavar: "N",
    help: "Generator filters in the last conv layer.",
  },
  ndf: {
    kind: "integer",
    default: 64,
    min: 1,
    max: 1024,
    reference: "ndf",
    metavar: "N",
    help: "Discriminator filters in the first conv layer.",
  },
  norm: {
    kind: "choice",
    default: "batch",
    choices: ["batch", "instance", "none"],
    reference: "norm",
    metavar: "N",
    help: "Normalisation layers.",
  },
  noDropout: {
    kind: "boolean",
    default: false,
    reference: "no_dropout",
    help: "No dropout in the generator.",
  },
  initType: {
    kind: "choice",
    default: "normal",
    choices: INIT_TYPES,
    reference: "init_type",
    metavar: "I",
    help: "Weight initialisation of both networks, as the reference's.",
  },
  initGain: {
    kind: "number",
    default: 0.02,
    min: 1e-6,
    reference: "init_gain",
    metavar: "X",
    help: "Std of normal, gain of xavier and orthogonal (unused by kaiming).",
  },
  // ---- optimisation
  batch: {
    kind: "integer",
    default: 1,
    min: 1,
    reference: "batch_size",
    metavar: "N",
    help: "Pairs per step.",
  },
  epochs: {
    kind: "integer",
    default: 100,
    min: 0,
    resumable: true,
    reference: "n_epochs",
    metavar: "N",
    help: "Epochs at the initial learning rate.",
  },
  epochsDecay: {
    kind: "integer",
    default: 100,
    min: 0,
    resumable: true,
    reference: "n_epochs_decay",
    metavar: "N",
    help: "Epochs of linear decay to 0 afterwards.",
  },
  policy: {
    kind: "choice",
    default: "linear",
    choices: SCHEDULE_POLICIES,
    reference: "lr_policy",
    metavar: "P",
    help: "Learning-rate schedule.",
  },
  lrDecayIters: {
    kind: "integer",
    default: 50,
    min: 1,
    reference: "lr_decay_iters",
    metavar: "N",
    help: "Epochs between ×0.1 steps of the step policy.",
  },
  lr: {
    kind: "number",
    default: 2e-4,
    min: 0,
    resumable: true,
    reference: "lr",
    metavar: "X",
    help: "Adam learning rate.",
  },
  beta1: {
    kind: "number",
    default: 0.5,
    min: 0,
    max: 0.999999,
    reference: "beta1",
    metavar: "X",
    help: "Adam β1.",
  },
  beta2: {
    kind: "number",
    default: 0.999,
    min: 0,
    max: 0.999999,
    metavar: "X",
    help: "Adam β2.",
  },
  ganMode: {
    kind: "choice",
    default: "vanilla",
    choices: GAN_MODES,
    reference: "gan_mode",
    metavar: "M",
    help: "GAN objective.",
  },
  lambdaL1: {
    kind: "number",
    default: 100,
    min: 0,
    reference: "lambda_L1",
    metavar: "X",
    help: "Weight of the L1 term.",
  },
  seed: {
    kind: "integer",
    default: 0,
    min: 0,
    metavar: "N",
    help: "Seed of the weights, shuffle, jitter and dropout.",
  },
  // ---- the run folder
  recipe: {
    kind: "choice",
    default: null,
    choices: ["reference", "demo"],
    metavar: "R",
    help:
      "Named defaults: reference (the default with --data) or demo (64×64, depth 6, ngf = ndf = 16, 2 + 1 epochs; the default without).",
  },
  out: {
    kind: "string",
    default: null,
    metavar: "DIR",
    help:
      "Run folder (none: CHECKPOINTS_DIR/NAME with --name, else runs/<dataset or data folder name>).",
  },
  name: {
    kind: "string",
    default: null,
    reference: "name",
    metavar: "NAME",
    help: "Run name: the run lives in CHECKPOINTS_DIR/NAME/.",
  },
  checkpointsDir: {
    kind: "string",
    default: "checkpoints",
    reference: "checkpoints_dir",
    metavar: "DIR",
    help: "Folder of named runs.",
  },
  displayEvery: {
    kind: "integer",
    default: 100,
    min: 1,
    resumable: true,
    reference: "save_latest_freq",
    metavar: "N",
    help: "Steps between sample grids and checkpoints/latest.",
  },
  saveEvery: {
    kind: "integer",
    default: 5,
    min: 1,
    resumable: true,
    reference: "save_epoch_freq",
    metavar: "N",
    help: "Epochs between kept checkpoints/epoch_<n>.",
  },
} as const satisfies Record<string, OptionSpec>;

/** The name of a training option. */
export type TrainOptionName = keyof typeof TRAIN_OPTIONS;

/** The value type of an option row. */
export type OptionValue<S extends OptionSpec> = S extends
  { kind: "integer" | "number" } ? number
  : S extends { kind: "boolean" } ? boolean
  : S extends { choices: readonly (infer C)[] } ? C
  : string;

/** Every training option with its value ({@linkcode TRAIN_OPTIONS}); `null` where the row's default is `null` and none was given. */
export type ResolvedTrainOptions = {
  -readonly [K in TrainOptionName]: (typeof TRAIN_OPTIONS)[K] extends
    { default: null } ? OptionValue<(typeof TRAIN_OPTIONS)[K]> | null
    : OptionValue<(typeof TRAIN_OPTIONS)[K]>;
};

/** Named sets of defaults, applied under what is given. */
export const RECIPES: Readonly<
  Record<"reference" | "demo", Partial<ResolvedTrainOptions>>
> = {
  reference: {},
  demo: {
    size: 64,
    generator: "unet",
    depth: 6,
    ngf: 16,
    ndf: 16,
    epochs: 2,
    epochsDecay: 1,
  },
};

/** The defaults of every option (the reference's; see {@linkcode RECIPES}). */
export const TRAIN_DEFAULTS: Readonly<ResolvedTrainOptions> = Object
  .fromEntries(
    Object.entries(TRAIN_OPTIONS).map(([k, s]) => [k, s.default]),
  ) as ResolvedTrainOptions;

/** Options that may change when a run is resumed (the rest must match the checkpoint). */
export const RESUMABLE_OVERRIDES: readonly TrainOptionName[] = (Object.entries(
  TRAIN_OPTIONS,
) as [TrainOptionName, OptionSpec][]).filter(([, s]) => s.resumable).map((
  [k],
) => k);

/** Checks one value against its row; the error names the option. */
export function checkOption(
  name: TrainOptionName,
  value: unknown,
): string | number | boolean | null {
  const spec: OptionSpec = TRAIN_OPTIONS[name];
  if (value === null && spec.default === null) return null;
  switch (spec.kind) {
    case "integer":
      return integerIn(name, value, spec.min, spec.max);
    case "number":
      return numberIn(name, value, spec.min, spec.max);
    case "boolean":
      if (typeof value === "boolean") return value;
      throw new RangeError(
        `${name} must be true or false, received ${received(value)}`,
      );
    case "choice": {
      const choices = spec.choices!.map(String);
      return spec
        .choices![choices.indexOf(oneOf(name, String(value), choices))];
    }
    default:
      if (typeof value === "string" && value !== "") return value;
      throw new RangeError(
        `${name} must be a non-empty text, received ${received(value)}`,
      );
  }
}

function baseName(path: string): string {
  const parts = path.replace(/\/+$/, "").split("/");
  return parts[parts.length - 1] || "data";
}

/**
 * Fills the defaults (the recipe's, then the table's) and validates every
 * option; errors name the option, what was expected and the value. Unknown
 * names are errors too.
 */
export function resolveTrainOptions(
  options: Partial<ResolvedTrainOptions> = {},
): ResolvedTrainOptions {
  const given = Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as Partial<ResolvedTrainOptions>;
  for (const k of Object.keys(given)) {
    if (!(k in TRAIN_OPTIONS)) {
      throw new RangeError(
        `unknown training option ${received(k)}; the options are ${
          Object.keys(TRAIN_OPTIONS).join(", ")
        }`,
      );
    }
  }
  const recipe = given.recipe ?? (given.data ? "reference" : "demo");
  const o = { ...TRAIN_DEFAULTS, ...RECIPES[recipe], ...given, recipe };
  for (const k of Object.keys(TRAIN_OPTIONS) as TrainOptionName[]) {
    (o as Record<string, unknown>)[k] = checkOption(k, o[k]);
  }
  if (o.epochs + o.epochsDecay < 1) {
    throw new RangeError(
      `epochs + epochsDecay must be at least 1, received ${o.epochs} + ${o.epochsDecay}`,
    );
  }
  if (o.out === null) {
    o.out = o.name !== null
      ? `${o.checkpointsDir}/${o.name}`
      : `runs/${o.data === null ? o.dataset : baseName(o.data)}`;
  }
  return o;
}

/**
 * Merges a checkpoint's stored options with those given on resume: only
 * {@linkcode RESUMABLE_OVERRIDES} may differ; any other option given must
 * equal the stored one (the error names it and both values).
 */
export function resumeOptions(
  stored: Record<string, unknown>,
  given: Partial<ResolvedTrainOptions>,
  checkpoint: string,
): ResolvedTrainOptions {
  // Runs from before the options table stored no recipe: their values are all explicit.
  const known = Object.fromEntries(
    Object.entries(stored).filter(([k]) => k in TRAIN_OPTIONS),
  );
  const base = resolveTrainOptions({ recipe: "demo", ...known });
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined || k === "out") continue;
    const stay = base[k as TrainOptionName];
    if ((RESUMABLE_OVERRIDES as readonly string[]).includes(k)) {
      merged[k] = v;
    } else if (JSON.stringify(v) !== JSON.stringify(stay)) {
      throw new RangeError(
        `${k} ${
          JSON.stringify(v)
        } differs from the run being resumed (${checkpoint} has ${
          JSON.stringify(stay)
        }); leave it out to resume, or start a new run in another folder`,
      );
    }
  }
  return resolveTrainOptions({
    ...merged,
    out: given.out ?? base.out,
  } as Partial<ResolvedTrainOptions>);
}
