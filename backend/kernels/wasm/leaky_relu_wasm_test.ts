import assert from "node:assert/strict";
import { buildLeakyRelu } from "./build_leaky_relu.ts";

Deno.test("leaky_relu_wasm.ts is what leaky_relu.wat builds to (run build_leaky_relu.ts after editing the source)", async () => {
  const committed = await Deno.readTextFile(
    new URL("./leaky_relu_wasm.ts", import.meta.url),
  );
  assert.equal(committed, await buildLeakyRelu());
});
