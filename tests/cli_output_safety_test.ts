/**
 * `import` and `export` never delete or replace what p2p did not write:
 * a user's folder or file at `--out` is refused and left intact; `--force`
 * replaces only a previous artefact of the same kind.
 */
import assert from "node:assert/strict";
import { ARTEFACT_MARKER } from "@p2p/internal";
import { ROOT, runCli } from "./run_cli.ts";

const FIX = "tests/fixtures/torch/unet_bn.pth";

async function run(
  script: string,
  args: string[],
): Promise<{ code: number; out: string }> {
  const r = await runCli(script, args, { cwd: ROOT, env: { INIT_CWD: ROOT } });
  return { code: r.code, out: r.all };
}

const importArgs = (out: string, ...more: string[]) => [
  "--pth",
  FIX,
  "--net",
  "unet",
  "--size",
  "32",
  "--out",
  out,
  ...more,
];

Deno.test("import --out: a user's folder is refused and intact; a previous import is replaced only with --force", async () => {
  const dir = await Deno.makeTempDir({ prefix: "p2p_out_" });
  try {
    await Deno.mkdir(`${dir}/mine`);
    await Deno.writeTextFile(`${dir}/mine/thesis.tex`, "years of work");
    let r = await run("cli/import.ts", importArgs(`${dir}/mine`, "--force"));
    assert.notEqual(r.code, 0, r.out);
    assert.match(
      r.out,
      /--out .*mine is a non-empty folder that p2p did not write \(it holds thesis\.tex\)/,
    );
    assert.equal(
      await Deno.readTextFile(`${dir}/mine/thesis.tex`),
      "years of work",
    );

    const ckpt = `${dir}/ckpt`;
    r = await run("cli/import.ts", importArgs(ckpt));
    assert.equal(r.code, 0, r.out);
    const marker = JSON.parse(
      await Deno.readTextFile(`${ckpt}/${ARTEFACT_MARKER}`),
    );
    assert.equal(marker.kind, "p2p checkpoint");
    r = await run("cli/import.ts", importArgs(ckpt));
    assert.notEqual(r.code, 0);
    assert.match(r.out, /holds a previous p2p checkpoint; pass --force/);
    // A checkpoint without a marker (as training writes it) is recognised too.
    await Deno.remove(`${ckpt}/${ARTEFACT_MARKER}`);
    r = await run("cli/import.ts", importArgs(ckpt, "--force"));
    assert.equal(r.code, 0, r.out);
    assert.ok(
      (await Deno.readTextFile(`${ckpt}/${ARTEFACT_MARKER}`)).includes(
        "p2p checkpoint",
      ),
    );

    // Adding a discriminator: once; replacing it needs --force.
    const addD = (...more: string[]) =>
      run("cli/import.ts", [
        "--pth",
        "tests/fixtures/torch/basic_bn.pth",
        "--net",
        "basic",
        "--out",
        ckpt,
        ...more,
      ]);
    r = await addD();
    assert.equal(r.code, 0, r.out);
    r = await addD();
    assert.notEqual(r.code, 0);
    assert.match(
      r.out,
      /holds a discriminator that adding this discriminator would replace; pass --force/,
    );
    r = await addD("--force");
    assert.equal(r.code, 0, r.out);
    assert.ok(await Deno.stat(`${ckpt}/${ARTEFACT_MARKER}`));

    // export tfjs over the checkpoint (another kind) is refused even with --force.
    r = await run("cli/export.ts", [
      "--checkpoint",
      ckpt,
      "--format",
      "tfjs",
      "--out",
      ckpt,
      "--force",
    ]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.out,
      /holds a p2p checkpoint, not a tfjs model; choose another folder/,
    );
    assert.ok(await Deno.stat(`${ckpt}/config.json`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export --out: user folders and files are refused and intact; --force replaces p2p's own output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "p2p_out_" });
  try {
    const ckpt = `${dir}/ckpt`;
    let r = await run("cli/import.ts", importArgs(ckpt));
    assert.equal(r.code, 0, r.out);
    const exportTo = (out: string, format: string, ...more: string[]) =>
      run("cli/export.ts", [
        "--checkpoint",
        ckpt,
        "--format",
        format,
        "--out",
        out,
        ...more,
      ]);

    await Deno.mkdir(`${dir}/home`);
    await Deno.writeTextFile(`${dir}/home/notes.txt`, "keep");
    r = await exportTo(`${dir}/home`, "tfjs", "--force");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /non-empty folder that p2p did not write/);
    assert.equal(await Deno.readTextFile(`${dir}/home/notes.txt`), "keep");

    await Deno.writeTextFile(`${dir}/file`, "keep");
    r = await exportTo(`${dir}/file`, "tfjs", "--force");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /is a file, expected a new or empty folder/);
    assert.equal(await Deno.readTextFile(`${dir}/file`), "keep");

    r = await exportTo(`${dir}/web`, "tfjs");
    assert.equal(r.code, 0, r.out);
    assert.ok(await Deno.stat(`${dir}/web/p2p.json`));
    r = await exportTo(`${dir}/web`, "tfjs");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /holds a previous tfjs model; pass --force/);
    r = await exportTo(`${dir}/web`, "tfjs", "--force");
    assert.equal(r.code, 0, r.out);

    r = await exportTo(`${dir}/file`, "safetensors");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /already exists; pass --force/);
    assert.equal(await Deno.readTextFile(`${dir}/file`), "keep");
    r = await exportTo(`${dir}/home`, "safetensors", "--force");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /is a folder, expected a file path/);
    r = await exportTo(`${dir}/G.safetensors`, "safetensors");
    assert.equal(r.code, 0, r.out);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.filter((n) => n.includes("tmp")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
