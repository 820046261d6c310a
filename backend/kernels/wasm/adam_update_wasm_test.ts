import assert from "node:assert/strict";
import { buildAdamUpdate } from "./build_adam_update.ts";

Deno.test("adam_update_wasm.ts is what adam_update.wat builds to (run build_adam_update.ts after editing the source)", async () => {
  const committed = await Deno.readTextFile(
    new URL("./adam_update_wasm.ts", import.meta.url),
  );
  assert.equal(committed, await buildAdamUpdate());
});
