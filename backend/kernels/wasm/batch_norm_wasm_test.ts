import assert from "node:assert/strict";
import { buildBatchNorm } from "./build_batch_norm.ts";

Deno.test("batch_norm_wasm.ts is what batch_norm.wat builds to (run build_batch_norm.ts after editing the source)", async () => {
  const committed = await Deno.readTextFile(
    new URL("./batch_norm_wasm.ts", import.meta.url),
  );
  assert.equal(committed, await buildBatchNorm());
});
