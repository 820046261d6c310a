/**
 * Builds `tanh_simd.wat` into `tanh_simd_wasm.ts` (the two binaries as
 * base64 constants), as `build_leaky_relu.ts` builds LeakyRelu's:
 *
 * ```sh
 * deno run -A backend/kernels/wasm/build_tanh_simd.ts          # writes
 * deno run -A backend/kernels/wasm/build_tanh_simd.ts --check  # compares
 * ```
 *
 * `tanh_simd_wasm_test.ts` runs the same build and fails when the
 * committed binaries differ from the source.
 *
 * @module
 */
import { buildWat, runWatBuild, type WatBuild } from "./wat_build.ts";

const BUILD: WatBuild = {
  script: "build_tanh_simd.ts",
  source: new URL("./tanh_simd.wat", import.meta.url),
  output: new URL("./tanh_simd_wasm.ts", import.meta.url),
  what: "The Tanh SIMD loop",
  constant: "TANH_WASM",
};

/** The text of `tanh_simd_wasm.ts` built from the current source. */
export function buildTanhSimd(): Promise<string> {
  return buildWat(BUILD);
}

if (import.meta.main) await runWatBuild(BUILD, Deno.args);
