/**
 * Running a generator during training without disturbing the training
 * state: paper-mode inference (`training: true`) moves BatchNorm's running
 * statistics and draws dropout masks, so both are restored afterwards and a
 * run that writes sample grids stays bit-identical to one that does not.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { getDropoutState, setDropoutState } from "@p2p/layers";
import type { LayersModel, Tensor4D } from "./types.ts";

/** How the generator runs: `paper` (dropout on, batch statistics) or `eval`. */
export type SampleMode = "paper" | "eval";

/**
 * `generator(x)` in the given mode, leaving the model's non-trainable
 * weights (BatchNorm running statistics) and the dropout mask generator as
 * they were. The caller disposes the result.
 */
export function generatePreserving(
  generator: LayersModel,
  x: Tensor4D,
  mode: SampleMode = "paper",
): Tensor4D {
  if (mode === "eval") {
    return tf.tidy(() =>
      generator.apply(x, { training: false }) as tf.Tensor4D
    );
  }
  const dropout = getDropoutState();
  const fixed = generator.nonTrainableWeights;
  const saved = fixed.map((w) => tf.clone(w.read()));
  try {
    return tf.tidy(() => generator.apply(x, { training: true }) as tf.Tensor4D);
  } finally {
    fixed.forEach((w, i) => w.write(saved[i]));
    tf.dispose(saved);
    setDropoutState(dropout);
  }
}
