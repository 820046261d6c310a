// Runs p2p's commands in a subprocess for the tests that check them end to end.

/** The repository root (with a trailing slash). */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/** How a command ended and what it printed. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  out: string;
  /** Standard error. */
  err: string;
  /** Standard output then standard error. */
  all: string;
}

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /** Working folder. @default the test runner's */
  cwd?: string;
  /** Environment added to `NO_COLOR=1` (and the runner's own). @default {} */
  env?: Record<string, string>;
}

/**
 * Runs `deno run -A <script> ...args`, `script` relative to the repository
 * root (or absolute), and collects its output.
 */
export async function runCli(
  script: string,
  args: string[],
  options: RunCliOptions = {},
): Promise<CliResult> {
  const path = script.startsWith("/") ? script : `${ROOT}${script}`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const out = dec.decode(r.stdout), err = dec.decode(r.stderr);
  return { code: r.code, out, err, all: out + err };
}
