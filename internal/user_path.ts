/**
 * Paths as the user typed them. `deno task` runs commands in the repository
 * root, not in the folder the user typed the command in; Deno sets
 * `INIT_CWD` to that folder, so relative user paths resolve against it.
 *
 * @module
 */

/** The folder the user typed the command in: `INIT_CWD` when set, else the working directory. */
export function userCwd(): string {
  let init: string | undefined;
  try {
    init = Deno.env.get("INIT_CWD");
  } catch {
    init = undefined; // no --allow-env: plain working directory
  }
  return init && init.startsWith("/") ? init : Deno.cwd();
}

/**
 * Resolves a path the user typed: absolute paths and `~/…` as given, relative
 * ones against {@linkcode userCwd}. Messages should still print the path as
 * the user gave it.
 *
 * @example
 * ```ts
 * import { userPath } from "@p2p/internal";
 * console.log(userPath("/tmp/in.png")); // "/tmp/in.png"
 * ```
 */
export function userPath(path: string): string {
  if (path.startsWith("/")) return path;
  if (path === "~" || path.startsWith("~/")) {
    const home = Deno.env.get("HOME");
    if (home) return home + path.slice(1);
  }
  const base = userCwd();
  if (base === Deno.cwd()) return path;
  const joined = `${base.replace(/\/+$/, "")}/${path}`;
  return normalize(joined);
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/") + (path.endsWith("/") && out.length ? "/" : "");
}
