/**
 * A `--name` run folder shared with the PyTorch reference
 * (`CHECKPOINTS_DIR/NAME/`): beside p2p's own `checkpoints/latest` and
 * `checkpoints/epoch_<n>`, training writes the reference's
 * `latest_net_G.pth`, `latest_net_D.pth` and `<n>_net_G.pth`,
 * `<n>_net_D.pth`, so the reference's `train.py --continue_train` and
 * `test.py` take the run over; and `--continue_train` continues from the
 * reference's files when they are newer than p2p's checkpoint (the reference
 * keeps no optimizer state, so Adam starts afresh, as in the reference).
 *
 * @module
 */
import { exists } from "@p2p/internal";
import { buildDiscriminator, buildGenerator } from "@p2p/models";
import {
  loadStateDict,
  loadStateDictInto,
  referenceArchitecture,
  referenceCheckpointPath,
  writeReferenceCheckpoint,
} from "@p2p/interop";
import {
  networkConfigs,
  readCheckpointConfig,
  type ResolvedTrainOptions,
  resolveTrainOptions,
  runSettings,
  saveCheckpoint,
  type SavedCheckpoint,
  type TrainOptions,
} from "@p2p/train";

/** The resolved options of `options` (what `train` will run with, before a resume merges the stored ones). */
function resolved(options: TrainOptions): ResolvedTrainOptions {
  return resolveTrainOptions(runSettings(options));
}

/** `num_batches_tracked` of a reference file's first BatchNorm (its training steps), 0 without one. */
async function stepOf(path: string): Promise<number> {
  const sd = await loadStateDict(await Deno.readFile(path), path);
  for (const [k, t] of sd) {
    if (k.endsWith(".num_batches_tracked")) return Number(t.data[0]);
  }
  return 0;
}

/** Whether the run's networks have an exact reference counterpart (else no `.pth` is written). */
function referenceCompatible(o: ResolvedTrainOptions): boolean {
  try {
    const c = networkConfigs(o);
    referenceArchitecture(c.generator);
    referenceArchitecture(c.discriminator);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a `--name` run folder before training and, with `--continue_train`,
 * turns the reference's newer `latest_net_G/D.pth` into p2p's
 * `checkpoints/latest` (epoch `epochCount - 1`, the step read from the
 * files' BatchNorm counters) for the ordinary resume to continue. Refuses to
 * start a new run over reference files p2p did not write. Returns a line to
 * print, or null.
 */
export async function prepareReferenceRun(
  options: TrainOptions,
  epochCount = 1,
): Promise<string | null> {
  if (!Number.isInteger(epochCount) || epochCount < 1) {
    throw new RangeError(
      `--epoch_count must be a positive integer, received ${epochCount}`,
    );
  }
  const o = resolved(options);
  if (o.name === null || o.out === null) return null;
  const out = o.out;
  // --epoch N continues <N>_net_*.pth and p2p's epoch_<N>, as the reference does.
  const label = options.resume ? options.resumeEpoch ?? "latest" : "latest";
  const gPath = referenceCheckpointPath(out, label, "G");
  const dPath = referenceCheckpointPath(out, label, "D");
  if (!(await exists(gPath))) return null;
  const latest = `${out}/checkpoints/${
    label === "latest" ? "latest" : `epoch_${label}`
  }`;
  const p2pStep = (await exists(`${latest}/config.json`))
    ? (await readCheckpointConfig(latest)).step
    : null;
  const refStep = await stepOf(gPath);
  if (!options.resume) {
    // p2p's own files (same step as its checkpoint): the run folder's rules apply.
    if (p2pStep !== null && p2pStep === refStep) return null;
    throw new Error(
      `${out} holds the reference's checkpoints (latest_net_G.pth); continue them with --continue_train, or choose another --name`,
    );
  }
  if (p2pStep !== null && p2pStep >= refStep) return null;
  if (!(await exists(dPath))) {
    throw new Error(
      `--continue_train: ${out} has ${label}_net_G.pth but no ${label}_net_D.pth; the discriminator is needed to continue training`,
    );
  }
  const configs = networkConfigs(o);
  const g = buildGenerator(configs.generator);
  const d = buildDiscriminator(configs.discriminator);
  try {
    for (
      const [model, config, path] of [[g, configs.generator, gPath], [
        d,
        configs.discriminator,
        dPath,
      ]] as const
    ) {
      const sd = await loadStateDict(await Deno.readFile(path), path);
      loadStateDictInto(
        model,
        referenceArchitecture(config),
        sd,
        `${path} (for the networks the flags describe)`,
      );
    }
    const { out: _out, ...stored } = o;
    await saveCheckpoint(latest, {
      generator: g,
      generatorConfig: configs.generator,
      discriminator: d,
      discriminatorConfig: configs.discriminator,
      train: stored,
      data: {
        direction: o.direction,
        inChannels: o.inChannels,
        outChannels: o.outChannels,
        size: o.size,
        source: o.data ?? `embedded:${o.dataset}`,
      },
      epoch: epochCount - 1,
      step: refStep,
    });
  } finally {
    g.dispose();
    d.dispose();
  }
  return `continuing the reference's ${label}_net_G.pth / ${label}_net_D.pth in ${out} (step ${refStep}${
    p2pStep === null ? "" : `, newer than p2p's step ${p2pStep}`
  }; Adam starts afresh, as the reference keeps no optimizer state)`;
}

/**
 * The `onCheckpoint` hook of a `--name` run: writes the reference's
 * `<label>_net_G.pth` / `_net_D.pth` beside each p2p checkpoint, from the
 * configurations stored in it. Null when the run has no name or its networks
 * have no reference counterpart.
 */
export function referenceCheckpointWriter(
  options: TrainOptions,
): ((saved: SavedCheckpoint) => Promise<void>) | null {
  const o = resolved(options);
  if (o.name === null || o.out === null || !referenceCompatible(o)) return null;
  const out = o.out;
  return async (saved) => {
    const config = await readCheckpointConfig(saved.dir);
    await writeReferenceCheckpoint(out, saved.label, {
      generator: saved.generator,
      discriminator: saved.discriminator,
      configs: {
        generator: config.generator,
        discriminator: config.discriminator,
      },
      step: saved.step,
    });
  };
}
