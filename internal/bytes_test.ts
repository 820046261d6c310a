import assert from "node:assert/strict";
import { concatBytes } from "./bytes.ts";

Deno.test("concatBytes joins parts in order, empty parts included", () => {
  const out = concatBytes([
    new Uint8Array([1, 2]),
    new Uint8Array(0),
    new Uint8Array([3]).subarray(0, 1),
  ]);
  assert.deepEqual(Array.from(out), [1, 2, 3]);
  assert.equal(concatBytes([]).length, 0);
});
