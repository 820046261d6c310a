import assert from "node:assert/strict";
// @ts-types="../cli/web/image_size.d.ts"
import { declaredSize } from "../cli/web/image_size.js";
import { hugeJpeg, hugePng } from "./hostile_files.ts";

Deno.test("the page reads an upload's declared size from its PNG or JPEG header", () => {
  assert.deepEqual(declaredSize(hugePng(30000, 20000)), {
    width: 30000,
    height: 20000,
  });
  assert.deepEqual(declaredSize(hugeJpeg(65535, 300)), {
    width: 65535,
    height: 300,
  });
  assert.equal(declaredSize(new Uint8Array([1, 2, 3, 4])), null);
});
