/**
 * What `translate` and `eval` share: the inference flags and a translator
 * loaded from a checkpoint as those flags say.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  INFERENCE_MODES,
  type InferenceMode,
  sizeMultiple,
  translate,
} from "@p2p/models";
import type { CheckpointConfig } from "@p2p/train";
import { loadAnyGenerator } from "./reference_model.ts";
import { setDropoutSeed } from "@p2p/layers";
import {
  BACKEND_FLAGS,
  backendFromFlags,
  type FlagTable,
  type FlagValues,
  intFlag,
  UsageError,
} from "./args.ts";

/** Flags of every command that runs a checkpoint's generator. */
export const INFERENCE_FLAGS: FlagTable = {
  checkpoint: {
    type: "string",
    help:
      "p2p checkpoint folder (config.json), the reference's checkpoint folder (latest_net_G.pth, e.g. checkpoints/facades_label2photo_pretrained) or a .pth file.",
    metavar: "DIR",
    path: true,
  },
  mode: {
    type: "string",
    help:
      "paper: dropout on and batch statistics, as in training; eval: dropout off, running statistics.",
    default: "paper",
    choices: INFERENCE_MODES,
  },
  ...BACKEND_FLAGS,
  seed: {
    type: "string",
    help: "Seed of the dropout masks in paper mode.",
    default: "0",
    metavar: "N",
  },
};

/** A checkpoint's generator, ready to translate batches of any size. */
export interface Translator {
  /** The checkpoint's configuration. */
  config: CheckpointConfig;
  /** The inference mode in force. */
  mode: InferenceMode;
  /** Channels the generator takes. */
  inChannels: 1 | 3;
  /** Translates `[b, h, w, inChannels]` in [-1, 1]; the caller disposes the result. */
  run(x: tf.Tensor4D): tf.Tensor4D;
  /** Frees the generator. */
  dispose(): void;
}

/** Checks `required` flags, selects the backend, loads the checkpoint's generator. */
export async function translatorFromFlags(
  v: FlagValues,
  usage: string,
  required: readonly string[],
): Promise<Translator> {
  for (const f of ["checkpoint", ...required]) {
    if (!v[f]) throw new UsageError(`--${f} is required\n${usage}`);
  }
  const seed = intFlag(v, "seed", 0);
  await backendFromFlags(v);
  const { generator, config } = await loadAnyGenerator(
    v.checkpoint as string,
  );
  const mode = v.mode as InferenceMode;
  const multiple = sizeMultiple(config.generator);
  setDropoutSeed(seed);
  return {
    config,
    mode,
    inChannels: (config.generator.inChannels ?? 3) as 1 | 3,
    run: (x) => translate(generator, x, { mode, multiple }),
    dispose: () => generator.dispose(),
  };
}
