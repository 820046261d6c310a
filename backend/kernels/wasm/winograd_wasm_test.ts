import assert from "node:assert/strict";
import { buildWinograd } from "./build_winograd.ts";

Deno.test("winograd.wat and winograd_wasm.ts are what the generator makes (run build_winograd.ts after editing winograd_wat.ts)", async () => {
  const { wat, ts } = await buildWinograd();
  const read = (name: string) =>
    Deno.readTextFile(new URL(name, import.meta.url));
  assert.equal(await read("./winograd.wat"), wat);
  assert.equal(await read("./winograd_wasm.ts"), ts);
});
