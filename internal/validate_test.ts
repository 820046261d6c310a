import assert from "node:assert/strict";
import { integerIn, numberIn, oneOf } from "./validate.ts";

Deno.test("oneOf, integerIn and numberIn name the field and the value received", () => {
  assert.equal(oneOf("norm", "batch", ["batch", "none"]), "batch");
  assert.throws(
    () => oneOf("--norm", "bach", ["batch", "none"]),
    /--norm must be one of batch, none, received "bach"/,
  );
  assert.equal(integerIn("size", 64, 16, 4096), 64);
  assert.throws(
    () => integerIn("size", 8, 16, 4096),
    /size must be an integer in 16\.\.4096, received 8/,
  );
  assert.throws(
    () => integerIn("count", 1.5, 1),
    /count must be an integer ≥ 1, received 1\.5/,
  );
  assert.equal(numberIn("lr", 2e-4, 0), 2e-4);
  assert.throws(
    () => numberIn("lr", NaN, 0),
    /lr must be a number ≥ 0, received NaN/,
  );
});
