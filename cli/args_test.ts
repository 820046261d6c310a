import assert from "node:assert/strict";
import {
  BACKEND_FLAGS,
  backendOptionsFromFlags,
  parseFlags,
  UsageError,
} from "./args.ts";

Deno.test("--threads: parsed into selectBackend's threads option, absent when not given, bad values named", () => {
  const usage = "usage: x";
  const given = parseFlags(["--threads", "1"], usage, BACKEND_FLAGS)!;
  assert.deepEqual(backendOptionsFromFlags(given), {
    backend: "auto",
    allowSoftwareGpu: false,
    threads: 1,
  });
  const absent = parseFlags([], usage, BACKEND_FLAGS)!;
  assert.equal("threads" in backendOptionsFromFlags(absent), false);
  const bad = parseFlags(["--threads", "two"], usage, BACKEND_FLAGS)!;
  assert.throws(
    () => backendOptionsFromFlags(bad),
    (e: Error) =>
      e instanceof UsageError &&
      /--threads must be an integer.*"two"/.test(e.message),
  );
});
