/**
 * Builds `batch_norm.wat` into `batch_norm_wasm.ts` (the two binaries as
 * base64 constants), as `build_adam_update.ts` builds the Adam loop:
 *
 * ```sh
 * deno run -A backend/kernels/wasm/build_batch_norm.ts          # writes
 * deno run -A backend/kernels/wasm/build_batch_norm.ts --check  # compares
 * ```
 *
 * `batch_norm_wasm_test.ts` runs the same build and fails when the
 * committed binaries differ from the source.
 *
 * @module
 */
import { buildWat, runWatBuild, type WatBuild } from "./wat_build.ts";

const BUILD: WatBuild = {
  script: "build_batch_norm.ts",
  source: new URL("./batch_norm.wat", import.meta.url),
  output: new URL("./batch_norm_wasm.ts", import.meta.url),
  what: "The batch-norm SIMD loops",
  constant: "BATCH_NORM_WASM",
};

/** The text of `batch_norm_wasm.ts` built from the current source. */
export function buildBatchNorm(): Promise<string> {
  return buildWat(BUILD);
}

if (import.meta.main) await runWatBuild(BUILD, Deno.args);
