/**
 * Measures the export sizes of the full reference generator (unet_256,
 * ngf 64, 54,413,955 parameters) in each format:
 *
 *   deno run -A interop/export_sizes.ts
 *
 * Builds the network with its initial weights (sizes do not depend on the
 * values, except that uint8/float16 shards are the same size for any
 * values) and writes to a temporary folder that is removed afterwards.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { buildGenerator, preset } from "@p2p/models";
import {
  encodeSafetensors,
  exportStateDict,
  QUANTIZATIONS,
  writeTfjsModel,
} from "./mod.ts";

if (import.meta.main) {
  await tf.setBackend("cpu");
  const config = preset("reference").generator;
  const g = buildGenerator(config);
  const trainable = g.trainableWeights.reduce(
    (n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!,
    0,
  );
  console.log(
    `unet_256: ${trainable} trainable parameters, ${g.countParams()} with BatchNorm running statistics`,
  );
  const dir = await Deno.makeTempDir();
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  try {
    const st = encodeSafetensors(exportStateDict(g, config), { format: "pt" });
    console.log(`safetensors: ${mb(st.length)} (${st.length} bytes)`);
    for (const quantize of QUANTIZATIONS) {
      const r = await writeTfjsModel(`${dir}/${quantize}`, g, { quantize });
      console.log(
        `tfjs ${quantize}: ${
          mb(r.totalBytes)
        } (${r.totalBytes} bytes: weights ${r.weightBytes} in ${
          r.files.length - 1
        } shards + model.json)`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    g.dispose();
  }
}
