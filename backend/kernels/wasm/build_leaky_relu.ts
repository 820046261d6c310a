/**
 * Builds `leaky_relu.wat` into `leaky_relu_wasm.ts` (the two binaries as
 * base64 constants), as `build_adam_update.ts` builds the Adam loop:
 *
 * ```sh
 * deno run -A backend/kernels/wasm/build_leaky_relu.ts          # writes
 * deno run -A backend/kernels/wasm/build_leaky_relu.ts --check  # compares
 * ```
 *
 * `leaky_relu_wasm_test.ts` runs the same build and fails when the
 * committed binaries differ from the source.
 *
 * @module
 */
import { buildWat, runWatBuild, type WatBuild } from "./wat_build.ts";

const BUILD: WatBuild = {
  script: "build_leaky_relu.ts",
  source: new URL("./leaky_relu.wat", import.meta.url),
  output: new URL("./leaky_relu_wasm.ts", import.meta.url),
  what: "The LeakyRelu SIMD loop",
  constant: "LEAKY_RELU_WASM",
};

/** The text of `leaky_relu_wasm.ts` built from the current source. */
export function buildLeakyRelu(): Promise<string> {
  return buildWat(BUILD);
}

if (import.meta.main) await runWatBuild(BUILD, Deno.args);
