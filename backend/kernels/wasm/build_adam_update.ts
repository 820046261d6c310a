/**
 * Builds `adam_update.wat` into `adam_update_wasm.ts` (the two binaries as
 * base64 constants) with wabt's `wat2wasm`, compiled to WebAssembly:
 *
 * ```sh
 * deno run -A backend/kernels/wasm/build_adam_update.ts          # writes
 * deno run -A backend/kernels/wasm/build_adam_update.ts --check  # compares
 * ```
 *
 * `adam_update_wasm_test.ts` runs the same build and fails when the
 * committed binaries differ from the source.
 *
 * @module
 */
import { buildWat, runWatBuild, type WatBuild } from "./wat_build.ts";

const BUILD: WatBuild = {
  script: "build_adam_update.ts",
  source: new URL("./adam_update.wat", import.meta.url),
  output: new URL("./adam_update_wasm.ts", import.meta.url),
  what: "The `P2pAdamUpdate` SIMD loop",
  constant: "ADAM_UPDATE_WASM",
};

/** The text of `adam_update_wasm.ts` built from the current source. */
export function buildAdamUpdate(): Promise<string> {
  return buildWat(BUILD);
}

if (import.meta.main) await runWatBuild(BUILD, Deno.args);
