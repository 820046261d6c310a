import assert from "node:assert/strict";
import { buildCol2im } from "./build_col2im.ts";

Deno.test("col2im_wasm.ts is what col2im.wat builds to (run build_col2im.ts after editing the source)", async () => {
  const committed = await Deno.readTextFile(
    new URL("./col2im_wasm.ts", import.meta.url),
  );
  assert.equal(committed, await buildCol2im());
});
