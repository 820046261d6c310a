// Helpers of the tests that run the PyTorch reference's own scripts.
import assert from "node:assert/strict";

const root = new URL("..", import.meta.url).pathname;
/** The reference's sources: ../shared/reference-pytorch beside the repository. */
export const REFERENCE: string =
  new URL("../shared/reference-pytorch/", `file://${root}`).pathname;
/** Debian's Python, which has python3-torch. */
export const PYTHON = "/usr/bin/python3";

/** Whether PYTHON imports `modules` and the reference's `script` exists. */
export async function torchReady(
  modules: string[],
  script: string,
): Promise<boolean> {
  try {
    const r = await new Deno.Command(PYTHON, {
      args: ["-c", `import ${modules.join(", ")}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success && (await Deno.stat(`${REFERENCE}${script}`)).isFile;
  } catch {
    return false;
  }
}

/** Copies a folder tree (files and folders only), for tests that need a writable copy. */
export async function copy(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.name === "__pycache__") continue;
    const a = `${from.replace(/\/+$/, "")}/${e.name}`, b = `${to}/${e.name}`;
    if (e.isDirectory) await copy(a, b);
    else if (e.isFile) await Deno.copyFile(a, b);
  }
}

/** Runs the reference's test.py in `cwd` (where its datasets/ and checkpoints/ are). */
export async function referenceTest(
  cwd: string,
  args: string[],
): Promise<{ success: boolean; out: string }> {
  const r = await new Deno.Command(PYTHON, {
    args: [`${REFERENCE}test.py`, ...args],
    cwd,
    env: { PYTHONDONTWRITEBYTECODE: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    success: r.success,
    out: dec.decode(r.stdout) + dec.decode(r.stderr),
  };
}

/** Runs the reference's train.py from a temporary copy in `dir`; returns its output. */
export async function referenceTrain(
  dir: string,
  args: string[],
): Promise<string> {
  await copy(REFERENCE, `${dir}/reference`);
  const r = await new Deno.Command(PYTHON, {
    args: ["train.py", ...args],
    cwd: `${dir}/reference`,
    env: { PYTHONDONTWRITEBYTECODE: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const out = dec.decode(r.stdout) + dec.decode(r.stderr);
  assert.ok(r.success, out);
  return out;
}
