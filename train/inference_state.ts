/**
 * Running a generator during training without disturbing the training
 * state: paper-mode inference (`training: true`) moves BatchNorm's running
 * statistics and draws dropout masks, so both are restored afterwards and a
 * run that writes sample grids stays bit-identical to one that does not.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { dropoutStreamOf } from "@p2p/layers";
import type { InferenceMode, LayersModel } from "@p2p/models";
import type { Tensor4D } from "@p2p/layers";

/**
 * `generator(x)` in the given mode (`paper`: dropout on and batch
 * statistics, as the reference's test.py; `eval`), leaving the model's
 * non-trainable weights (BatchNorm running statistics) and its dropout
 * stream as they were. The caller disposes the result.
 */
export function generatePreserving(
  generator: LayersModel,
  x: Tensor4D,
  options: { mode?: InferenceMode } = {},
): Tensor4D {
  if (options.mode === "eval") {
    return tf.tidy(() =>
      generator.apply(x, { training: false }) as tf.Tensor4D
    );
  }
  const stream = dropoutStreamOf(generator);
  const dropout = stream.state();
  const fixed = generator.nonTrainableWeights;
  const saved = fixed.map((w) => tf.clone(w.read()));
  try {
    return tf.tidy(() => generator.apply(x, { training: true }) as tf.Tensor4D);
  } finally {
    fixed.forEach((w, i) => w.write(saved[i]));
    tf.dispose(saved);
    stream.restore(dropout);
  }
}
