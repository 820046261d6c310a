/**
 * Builds `col2im.wat` into `col2im_wasm.ts` (the two binaries as
 * base64 constants), as `build_leaky_relu.ts` builds LeakyRelu's:
 *
 * ```sh
 * deno run -A backend/kernels/wasm/build_col2im.ts          # writes
 * deno run -A backend/kernels/wasm/build_col2im.ts --check  # compares
 * ```
 *
 * `col2im_wasm_test.ts` runs the same build and fails when the
 * committed binaries differ from the source.
 *
 * @module
 */
import { buildWat, runWatBuild, type WatBuild } from "./wat_build.ts";

const BUILD: WatBuild = {
  script: "build_col2im.ts",
  source: new URL("./col2im.wat", import.meta.url),
  output: new URL("./col2im_wasm.ts", import.meta.url),
  what: "col2im's scatter-add",
  constant: "COL2IM_WASM",
};

/** The text of `col2im_wasm.ts` built from the current source. */
export function buildCol2im(): Promise<string> {
  return buildWat(BUILD);
}

if (import.meta.main) await runWatBuild(BUILD, Deno.args);
