/**
 * Builds `copy_rows.wat` into `copy_rows_wasm.ts` (the two binaries as
 * base64 constants), as `build_adam_update.ts` builds the Adam loop:
 *
 * ```sh
 * deno run -A backend/kernels/wasm/build_copy_rows.ts          # writes
 * deno run -A backend/kernels/wasm/build_copy_rows.ts --check  # compares
 * ```
 *
 * `copy_rows_wasm_test.ts` runs the same build and fails when the
 * committed binaries differ from the source.
 *
 * @module
 */
import { buildWat, runWatBuild, type WatBuild } from "./wat_build.ts";

const BUILD: WatBuild = {
  script: "build_copy_rows.ts",
  source: new URL("./copy_rows.wat", import.meta.url),
  output: new URL("./copy_rows_wasm.ts", import.meta.url),
  what: "The row-copy SIMD loop",
  constant: "COPY_ROWS_WASM",
};

/** The text of `copy_rows_wasm.ts` built from the current source. */
export function buildCopyRows(): Promise<string> {
  return buildWat(BUILD);
}

if (import.meta.main) await runWatBuild(BUILD, Deno.args);
