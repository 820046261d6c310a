import { strict as assert } from "node:assert";
import { isZip, openZip } from "./zip.ts";

const b64 = (s: string): Uint8Array =>
  Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

// Python zipfile: "a/stored.txt" stored, "a/deflated.txt" deflated ("deflate me " × 20).
const TWO =
  "UEsDBBQAAAAAAAAAIQCOo3MkDAAAAAwAAAAMAAAAYS9zdG9yZWQudHh0aGVsbG8gc3RvcmVkUEsDBBQAAAAIAIEpd11JEk9rEAAAANwAAAAOAAAAYS9kZWZsYXRlZC50eHRLSU3LSSxJVchNVUgZbkwAUEsBAhQDFAAAAAAAAAAhAI6jcyQMAAAADAAAAAwAAAAAAAAAAAAAAIABAAAAAGEvc3RvcmVkLnR4dFBLAQIUAxQAAAAIAIEpd11JEk9rEAAAANwAAAAOAAAAAAAAAAAAAACAATYAAABhL2RlZmxhdGVkLnR4dFBLBQYAAAAAAgACAHYAAAByAAAAAAA=";
// Python zipfile with force_zip64: a zip64 extra field in the local header.
const ZIP64 =
  "UEsDBBQAAAAAAAAAIQAU43pfCwAAAAsAAAAHABQAYmlnLmJpbgEAEAALAAAAAAAAAAsAAAAAAAAAemlwNjQgZW50cnlQSwECFAMUAAAAAAAAACEAFON6XwsAAAALAAAABwAAAAAAAAAAAAAAgAEAAAAAYmlnLmJpblBLBQYAAAAAAQABADUAAABEAAAAAAA=";

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

Deno.test("openZip: stored and deflated entries", async () => {
  const bytes = b64(TWO);
  assert.ok(isZip(bytes));
  const zip = openZip(bytes);
  assert.deepEqual([...zip.entries.keys()], ["a/stored.txt", "a/deflated.txt"]);
  assert.equal(zip.entries.get("a/deflated.txt")!.method, 8);
  assert.equal(text(await zip.read("a/stored.txt")), "hello stored");
  assert.equal(
    text(await zip.read("a/deflated.txt")),
    "deflate me ".repeat(20),
  );
});

Deno.test("openZip: zip64 local header", async () => {
  const zip = openZip(b64(ZIP64));
  assert.equal(text(await zip.read("big.bin")), "zip64 entry");
});

Deno.test("openZip: clear errors for non-zip data and missing entries", async () => {
  assert.ok(!isZip(Uint8Array.of(1, 2, 3, 4)));
  assert.throws(
    () => openZip(new Uint8Array(100), "f.pth"),
    /f\.pth: not a zip archive/,
  );
  const zip = openZip(b64(TWO), "t.zip");
  await assert.rejects(
    () => zip.read("nope"),
    /no entry "nope".*a\/stored\.txt/,
  );
});
