import assert from "node:assert/strict";
import { CASES } from "./hostile.ts";
import { runCli } from "../tests/run_cli.ts";

// The memory and time limits are measured by `deno run -A bench/hostile.ts`,
// not here; this checks that a case runs in its subprocess and reports.
Deno.test("bench/hostile.ts --case runs one case and reports its outcome and peak memory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/${CASES["pth-self-reference"].file}`;
    await Deno.writeFile(file, CASES["pth-self-reference"].make());
    const r = await runCli("bench/hostile.ts", [
      "--case",
      "pth-self-reference",
      "--file",
      file,
    ]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out.trim());
    assert.match(
      j.outcome,
      /^refused: .*self\.pth: the pickle holds a list or dict that contains itself/,
    );
    assert.ok(j.peak > 0 && j.peak < 2 ** 30, String(j.peak));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
