import assert from "node:assert/strict";
import {
  asGiven,
  BACKEND_FLAGS,
  backendOptionsFromFlags,
  type FlagTable,
  parseFlags,
  UsageError,
} from "./args.ts";

const FLAGS: FlagTable = {
  input: { type: "string", help: "In.", path: true },
  out: { type: "string", help: "Out.", path: true },
  name: { type: "string", help: "Not a path." },
};

Deno.test("path flags resolve against INIT_CWD; asGiven prints them as typed", () => {
  const before = Deno.env.get("INIT_CWD");
  const base = Deno.makeTempDirSync();
  try {
    Deno.env.set("INIT_CWD", base);
    const v = parseFlags(
      [
        "--input",
        "photos/a.png",
        "--out",
        "/abs/out",
        "--name",
        "rel/name",
      ],
      "usage",
      FLAGS,
    )!;
    assert.equal(v.input, `${base}/photos/a.png`);
    assert.equal(v.out, "/abs/out");
    assert.equal(v.name, "rel/name"); // not a path flag: as typed
    assert.equal(
      asGiven(`cannot read image '${base}/photos/a.png': not found`),
      "cannot read image 'photos/a.png': not found",
    );
    assert.equal(
      asGiven(`wrote ${base}/photos/a.png.p2p-tmp-1`),
      "wrote photos/a.png.p2p-tmp-1",
    );
    // A longer path that merely starts with the resolved one is left alone.
    assert.equal(
      asGiven(`${base}/photos/a.png2`),
      `${base}/photos/a.png2`,
    );
    const up = parseFlags(["--input", "../x.png"], "usage", FLAGS)!;
    assert.equal(up.input, `${base.slice(0, base.lastIndexOf("/"))}/x.png`);
  } finally {
    if (before === undefined) Deno.env.delete("INIT_CWD");
    else Deno.env.set("INIT_CWD", before);
    Deno.removeSync(base);
  }
});

Deno.test("without INIT_CWD (or when it is the working directory) paths stay as typed", () => {
  const before = Deno.env.get("INIT_CWD");
  try {
    Deno.env.delete("INIT_CWD");
    const v = parseFlags(["--input", "a/b.png"], "usage", FLAGS)!;
    assert.equal(v.input, "a/b.png");
    Deno.env.set("INIT_CWD", Deno.cwd());
    assert.equal(
      parseFlags(["--input", "c.png"], "usage", FLAGS)!.input,
      "c.png",
    );
  } finally {
    if (before === undefined) Deno.env.delete("INIT_CWD");
    else Deno.env.set("INIT_CWD", before);
  }
});

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
