import assert from "node:assert/strict";
import { buildTanhSimd } from "./build_tanh_simd.ts";

Deno.test("tanh_simd_wasm.ts is what tanh_simd.wat builds to (run build_tanh_simd.ts after editing the source)", async () => {
  const committed = await Deno.readTextFile(
    new URL("./tanh_simd_wasm.ts", import.meta.url),
  );
  assert.equal(committed, await buildTanhSimd());
});
