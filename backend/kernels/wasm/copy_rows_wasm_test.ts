import assert from "node:assert/strict";
import { buildCopyRows } from "./build_copy_rows.ts";

Deno.test("copy_rows_wasm.ts is what copy_rows.wat builds to (run build_copy_rows.ts after editing the source)", async () => {
  const committed = await Deno.readTextFile(
    new URL("./copy_rows_wasm.ts", import.meta.url),
  );
  assert.equal(committed, await buildCopyRows());
});
