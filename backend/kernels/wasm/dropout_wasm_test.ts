import assert from "node:assert/strict";
import { buildDropout } from "./build_dropout.ts";

Deno.test("dropout_wasm.ts is what dropout.wat builds to (run build_dropout.ts after editing the source)", async () => {
  const committed = await Deno.readTextFile(
    new URL("./dropout_wasm.ts", import.meta.url),
  );
  assert.equal(committed, await buildDropout());
});
