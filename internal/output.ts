/**
 * Output folders that never destroy what p2p did not write. A folder p2p
 * writes as a whole (a checkpoint, an exported model, a run) carries a marker
 * file naming its kind; a command may replace such a folder only when it is
 * of the same kind and the user said `--force`, and refuses any other
 * non-empty path, naming it.
 *
 * @module
 */
import { exists, tempPathFor, writeFailure, writeNewFileSynced } from "./fs.ts";

/** The marker file inside every folder artefact p2p writes. */
export const ARTEFACT_MARKER = ".p2p-artefact.json";

/** What {@linkcode checkOutputDir} found at the path. */
export type OutputState = "absent" | "empty" | "previous";

/** Options of {@linkcode checkOutputDir} and {@linkcode writeArtefactDir}. */
export interface OutputOptions {
  /** Replace a previous artefact of the same kind. @default false */
  force?: boolean;
  /** How the user named the path, for messages. @default "--out" */
  flag?: string;
}

/** A refused output path: the message names the path, what is there and what to do. */
export class OutputRefusedError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "OutputRefusedError";
  }
}

/** The kind recorded by the marker inside `dir`, or `null` when there is none. */
export async function artefactKind(dir: string): Promise<string | null> {
  try {
    const text = await Deno.readTextFile(`${dir}/${ARTEFACT_MARKER}`);
    const kind = (JSON.parse(text) as { kind?: unknown }).kind;
    return typeof kind === "string" ? kind : null;
  } catch {
    return null;
  }
}

/** The marker file's bytes for an artefact of `kind`. */
export function markerBytes(kind: string): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ kind, writer: "p2p" }) + "\n",
  );
}

/**
 * Checks that `path` may receive a folder artefact of `kind` and says what is
 * there now. Throws {@linkcode OutputRefusedError} for a file, a non-empty
 * folder p2p did not write (or wrote as another kind), or a previous artefact
 * of the same kind without `force`.
 */
export async function checkOutputDir(
  path: string,
  kind: string,
  options: OutputOptions = {},
): Promise<OutputState> {
  const flag = options.flag ?? "--out";
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "absent";
    throw e;
  }
  if (!info.isDirectory) {
    throw new OutputRefusedError(
      `${flag} ${path} is ${
        info.isSymlink ? "a symbolic link" : "a file"
      }, expected a new or empty folder for the ${kind}; p2p does not replace it`,
    );
  }
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) names.push(e.name);
  if (names.length === 0) return "empty";
  const found = await artefactKind(path);
  if (found === kind) {
    if (options.force) return "previous";
    throw new OutputRefusedError(
      `${flag} ${path} holds a previous ${kind}; pass --force to replace it, or choose another folder`,
    );
  }
  const listed = names.sort().slice(0, 3).join(", ") +
    (names.length > 3 ? `, … (${names.length} entries)` : "");
  throw new OutputRefusedError(
    found
      ? `${flag} ${path} holds a p2p ${found}, not a ${kind}; choose another folder`
      : `${flag} ${path} is a non-empty folder that p2p did not write (it holds ${listed}); choose a new or empty folder`,
  );
}

/**
 * Writes a folder artefact atomically: every file (names relative to the
 * folder, `/` allowed) plus the marker go to a temporary folder beside
 * `path`, which then takes its place. A previous artefact of the same kind is
 * replaced only with `force`; anything else at `path` is refused before a
 * byte is written. Returns `path`.
 */
export async function writeArtefactDir(
  path: string,
  kind: string,
  files: Record<string, Uint8Array>,
  options: OutputOptions = {},
): Promise<string> {
  const dir = path.replace(/\/+$/, "") || "/";
  const state = await checkOutputDir(dir, kind, options);
  const tmp = tempPathFor(dir);
  try {
    await Deno.mkdir(tmp, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) {
      if (
        name.split("/").some((p) => p === ".." || p === "") ||
        name === ARTEFACT_MARKER
      ) {
        throw new Error(`invalid artefact file name "${name}"`);
      }
      const slash = name.lastIndexOf("/");
      if (slash > 0) {
        await Deno.mkdir(`${tmp}/${name.slice(0, slash)}`, { recursive: true });
      }
      await writeNewFileSynced(`${tmp}/${name}`, bytes);
    }
    await writeNewFileSynced(`${tmp}/${ARTEFACT_MARKER}`, markerBytes(kind));
    if (state === "previous") {
      const old = tempPathFor(dir);
      await Deno.rename(dir, old);
      await Deno.rename(tmp, dir);
      await Deno.remove(old, { recursive: true });
    } else {
      if (state === "empty") await Deno.remove(dir);
      await Deno.rename(tmp, dir);
    }
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    if (e instanceof OutputRefusedError) throw e;
    throw new Error(writeFailure(dir, e));
  }
  return dir;
}

/**
 * Checks that a single-file output may be written at `path`: refused when it
 * is a folder, or an existing file without `force` (p2p cannot tell a file it
 * wrote from the user's own).
 */
export async function checkOutputFile(
  path: string,
  options: OutputOptions = {},
): Promise<void> {
  const flag = options.flag ?? "--out";
  if (!(await exists(path))) return;
  const info = await Deno.lstat(path);
  if (info.isDirectory) {
    throw new OutputRefusedError(
      `${flag} ${path} is a folder, expected a file path`,
    );
  }
  if (!options.force) {
    throw new OutputRefusedError(
      `${flag} ${path} already exists; pass --force to replace it, or choose another path`,
    );
  }
}
