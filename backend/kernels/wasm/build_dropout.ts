/**
 * Builds `dropout.wat` into `dropout_wasm.ts` (the two binaries as
 * base64 constants), as `build_leaky_relu.ts` builds LeakyRelu's:
 *
 * ```sh
 * deno run -A backend/kernels/wasm/build_dropout.ts          # writes
 * deno run -A backend/kernels/wasm/build_dropout.ts --check  # compares
 * ```
 *
 * `dropout_wasm_test.ts` runs the same build and fails when the
 * committed binaries differ from the source.
 *
 * @module
 */
import { buildWat, runWatBuild, type WatBuild } from "./wat_build.ts";

const BUILD: WatBuild = {
  script: "build_dropout.ts",
  source: new URL("./dropout.wat", import.meta.url),
  output: new URL("./dropout_wasm.ts", import.meta.url),
  what: "The seeded dropout loop",
  constant: "DROPOUT_WASM",
};

/** The text of `dropout_wasm.ts` built from the current source. */
export function buildDropout(): Promise<string> {
  return buildWat(BUILD);
}

if (import.meta.main) await runWatBuild(BUILD, Deno.args);
