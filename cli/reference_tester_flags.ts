/**
 * The flags of the reference's `test.py` (its `BaseOptions` + `TestOptions`,
 * pix2pix and test models), with the reference's defaults, as
 * `deno task translate` accepts them. Kebab-case spellings are aliases.
 *
 * @module
 */
import { PREPROCESS_MODES } from "@p2p/data";
import { BACKEND_FLAGS, type FlagTable } from "./args.ts";

/** Options of the reference that concern only CUDA, data loading threads or its viewers: accepted, ignored. */
export const IGNORED_REFERENCE_FLAGS: FlagTable = {
  gpu_ids: { type: "string", help: "Ignored (CUDA devices).", metavar: "IDS" },
  num_threads: { type: "string", help: "Ignored.", metavar: "N" },
  batch_size: {
    type: "string",
    help: "Ignored: test.py forces 1.",
    metavar: "N",
  },
  serial_batches: {
    type: "boolean",
    help: "Ignored: test.py forces it.",
  },
  no_flip: { type: "boolean", help: "Ignored: test.py forces it." },
  verbose: { type: "boolean", help: "Ignored." },
  use_wandb: { type: "boolean", help: "Ignored (Weights & Biases)." },
  wandb_project_name: { type: "string", help: "Ignored.", metavar: "NAME" },
  display_id: { type: "string", help: "Ignored (visdom).", metavar: "N" },
  display_server: { type: "string", help: "Ignored.", metavar: "URL" },
  display_env: { type: "string", help: "Ignored.", metavar: "ENV" },
  display_port: { type: "string", help: "Ignored.", metavar: "N" },
  display_ncols: { type: "string", help: "Ignored.", metavar: "N" },
  init_type: { type: "string", help: "Ignored at test time.", metavar: "T" },
  init_gain: { type: "string", help: "Ignored at test time.", metavar: "G" },
  ndf: { type: "string", help: "Ignored at test time (D).", metavar: "N" },
  netD: { type: "string", help: "Ignored at test time (D).", metavar: "D" },
  n_layers_D: { type: "string", help: "Ignored at test time.", metavar: "N" },
};

/** The flags of the reference test mode of `deno task translate`. */
export const REFERENCE_TEST_FLAGS: FlagTable = {
  dataroot: {
    type: "string",
    help:
      "Data: aligned reads DATAROOT/PHASE/*.jpg|png (AB side by side); single reads DATAROOT's images.",
    metavar: "DIR",
  },
  name: {
    type: "string",
    help: "Experiment name: the model is CHECKPOINTS_DIR/NAME/EPOCH_net_G.pth.",
    default: "experiment_name",
    metavar: "NAME",
  },
  checkpoints_dir: {
    type: "string",
    help: "Where runs are kept.",
    default: "./checkpoints",
    metavar: "DIR",
  },
  results_dir: {
    type: "string",
    help: "Results go to RESULTS_DIR/NAME/PHASE_EPOCH/{images/,index.html}.",
    default: "./results/",
    metavar: "DIR",
  },
  model: {
    type: "string",
    help: "pix2pix: real_A, fake_B, real_B; test: real, fake (one direction).",
    default: "test",
    choices: ["test", "pix2pix"],
  },
  dataset_mode: {
    type: "string",
    help:
      "aligned AB pairs or single images. [default: aligned with --model pix2pix, single with --model test]",
    choices: ["aligned", "single"],
    metavar: "MODE",
  },
  phase: { type: "string", help: "Split folder.", default: "test" },
  epoch: {
    type: "string",
    help: "Which checkpoint: latest or an epoch number.",
    default: "latest",
  },
  load_iter: {
    type: "string",
    help: "Load iter_N_net_G.pth when > 0.",
    default: "0",
    metavar: "N",
  },
  num_test: { type: "string", help: "Images to test.", default: "50" },
  eval: {
    type: "boolean",
    help:
      "Eval mode: dropout off, BatchNorm running statistics (else as in training).",
    default: false,
  },
  aspect_ratio: {
    type: "string",
    help: "Aspect ratio of the saved images.",
    default: "1.0",
  },
  direction: {
    type: "string",
    help: "AtoB or BtoA.",
    default: "AtoB",
    choices: ["AtoB", "BtoA"],
  },
  netG: {
    type: "string",
    help: "Generator. [default: read from the weights]",
    choices: ["unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks"],
    metavar: "G",
  },
  norm: {
    type: "string",
    help: "Normalisation. [default: read from the weights]",
    choices: ["batch", "instance"],
    metavar: "N",
  },
  ngf: {
    type: "string",
    help: "Generator filters. [default: read from the weights]",
    metavar: "N",
  },
  input_nc: {
    type: "string",
    help: "Input channels. [default: read from the weights]",
    metavar: "N",
  },
  output_nc: {
    type: "string",
    help: "Output channels. [default: read from the weights]",
    metavar: "N",
  },
  no_dropout: {
    type: "boolean",
    help: "The generator has no dropout.",
    default: false,
  },
  preprocess: {
    type: "string",
    help: "Resize/crop at load time.",
    default: "resize_and_crop",
    choices: PREPROCESS_MODES,
  },
  load_size: {
    type: "string",
    help: "Scale images to this size. [default: crop_size, as test.py]",
    metavar: "N",
  },
  crop_size: {
    type: "string",
    help: "Then crop to this size (centred).",
    default: "256",
    metavar: "N",
  },
  max_dataset_size: {
    type: "string",
    help: "At most this many images.",
    default: "Infinity",
    metavar: "N",
  },
  display_winsize: {
    type: "string",
    help: "Image width in index.html.",
    default: "256",
    metavar: "N",
  },
  model_suffix: {
    type: "string",
    help: "--model test loads EPOCH_net_G{SUFFIX}.pth.",
    default: "",
    metavar: "S",
  },
  suffix: {
    type: "string",
    help: "Appended to NAME as _SUFFIX ({opt} fields filled).",
    default: "",
    metavar: "S",
  },
  ...BACKEND_FLAGS,
  seed: {
    type: "string",
    help: "Seed of the dropout masks without --eval.",
    default: "0",
    metavar: "N",
  },
  ...IGNORED_REFERENCE_FLAGS,
};

/** Whether `args` is the reference's `test.py` command line (`--dataroot` or `--name`). */
export function isReferenceTestCommand(args: readonly string[]): boolean {
  return args.some((a) => /^--(dataroot|name)(=|$)/.test(a));
}

/** `--foo-bar` → `--foo_bar` for flags the table spells with underscores. */
export function normaliseFlagSpelling(
  args: readonly string[],
  flags: FlagTable,
): string[] {
  const byKebab = new Map(
    Object.keys(flags).map((k) => [k.replaceAll("_", "-"), k]),
  );
  return args.map((a) => {
    const m = /^--([^=]+)(=.*)?$/s.exec(a);
    if (!m || m[1] in flags) return a;
    const name = byKebab.get(m[1]);
    return name ? `--${name}${m[2] ?? ""}` : a;
  });
}
