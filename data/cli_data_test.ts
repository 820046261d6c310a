import assert from "node:assert/strict";
import { dataHelp, main, parseDataArgs, UsageError } from "../cli/data.ts";
import { pairedDataset } from "./paired_dataset.ts";
import { withTempDir } from "./test_helpers.ts";
import { runCli } from "../tests/run_cli.ts";

Deno.test("cli/data.ts: parses flags with defaults", () => {
  assert.deepEqual(parseDataArgs(["--name", "facades", "--out", "x"]), {
    name: "facades",
    out: "x",
    count: 400,
    size: 256,
    seed: 0,
    force: false,
  });
  assert.deepEqual(
    parseDataArgs([
      "--name=edges2shapes",
      "--out",
      "y",
      "--count",
      "5",
      "--size",
      "32",
      "--seed=-3",
      "--force",
    ]),
    {
      name: "edges2shapes",
      out: "y",
      count: 5,
      size: 32,
      seed: -3,
      force: true,
    },
  );
  assert.equal(parseDataArgs(["--help"]), "help");
  assert.equal(parseDataArgs(["-h"]), "help");
});

Deno.test("cli/data.ts: unknown flags, missing and bad values are UsageErrors naming the flag", () => {
  const bad: [string[], RegExp][] = [
    [
      ["--name", "facades", "--out", "x", "--colour", "red"],
      /Unknown option '--colour'/,
    ],
    [
      ["--out", "x"],
      /--name: required, one of facades, day2night, edges2shapes/,
    ],
    [
      ["--name", "cats", "--out", "x"],
      /--name: expected one of facades, day2night, edges2shapes, received 'cats'/,
    ],
    [["--name", "facades"], /--out: required/],
    [
      ["--name", "facades", "--out", "x", "--count", "0"],
      /--count: expected an integer from 1 to 1000000, received '0'/,
    ],
    [
      ["--name", "facades", "--out", "x", "--size", "12"],
      /--size: expected an integer from 16 to 4096, received '12'/,
    ],
    [
      ["--name", "facades", "--out", "x", "--size", "big"],
      /--size: expected an integer .*received 'big'/,
    ],
    [
      ["--name", "facades", "--out", "x", "--seed", "1.5"],
      /--seed: expected an integer .*received '1.5'/,
    ],
    [
      ["--name", "facades", "--out", "x", "extra"],
      /Unexpected argument 'extra'/,
    ],
    [["--name"], /--name/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(
      () => parseDataArgs(argv),
      (e: unknown) => e instanceof UsageError && re.test((e as Error).message),
      argv.join(" "),
    );
  }
});

Deno.test("cli/data.ts: --help lists every flag with its default", () => {
  const help = dataHelp();
  for (
    const flag of [
      "--name",
      "--out",
      "--count",
      "--size",
      "--seed",
      "--force",
      "--help",
    ]
  ) {
    const line = help.split("\n").find((l) =>
      l.trimStart().startsWith(flag) || l.includes(`, ${flag}`)
    );
    assert.ok(line, `${flag} missing from help`);
    assert.match(
      line,
      /\((default [^)]+|required)\)/,
      `${flag} has no default: ${line}`,
    );
  }
  for (const name of ["facades", "day2night", "edges2shapes"]) {
    assert.match(help, new RegExp(name));
  }
});

Deno.test("cli/data.ts: main writes a data set and returns exit codes (0, 1, 2)", async () => {
  await withTempDir(async (dir) => {
    const logs: string[] = [], errors: string[] = [];
    const log = console.log, error = console.error;
    console.log = (...a: unknown[]) => logs.push(a.join(" "));
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    try {
      assert.equal(
        await main([
          "--name",
          "day2night",
          "--out",
          `${dir}/d`,
          "--count",
          "5",
          "--size",
          "16",
        ]),
        0,
      );
      assert.equal(
        await main([
          "--name",
          "day2night",
          "--out",
          `${dir}/d`,
          "--count",
          "5",
          "--size",
          "16",
        ]),
        1,
      );
      assert.equal(await main(["--nme", "day2night"]), 2);
      assert.equal(await main(["--help"]), 0);
    } finally {
      console.log = log;
      console.error = error;
    }
    assert.match(
      logs[0],
      /wrote day2night \(seed 0\): 3 train, 1 val, 1 test pairs as 32x16 AB PNGs/,
    );
    assert.ok(logs.some((l) => l.includes(`${dir}/d/train/`)));
    assert.match(errors[0], /already holds a generated data set/);
    assert.match(errors[1], /Unknown option '--nme'/);
    assert.equal(
      (await pairedDataset(`${dir}/d`, { preprocess: "none" })).size,
      3,
    );
  });
});

Deno.test("cli/data.ts: the process exits 2 on a bad flag", async () => {
  const out = await runCli("cli/data.ts", [
    "--name",
    "facades",
    "--out",
    "x",
    "--wat",
  ]);
  assert.equal(out.code, 2);
  assert.match(out.err, /error: Unknown option '--wat'/);
});
