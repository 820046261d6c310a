/**
 * Filesystem helpers with one durability rule: a file p2p writes appears
 * whole or not at all (temporary file beside it, fsync, rename), and the
 * temporaries a killed process leaves behind are recognisable and cleaned.
 *
 * @module
 */

/** Whether `path` exists (a broken symbolic link counts as existing). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** The marker every temporary name p2p creates carries: `NAME.p2p-tmp-XXXXXXXX`. */
export const TEMP_MARK = ".p2p-tmp-";

/** A fresh temporary path beside `path` (same folder, so a rename is atomic). */
export function tempPathFor(path: string): string {
  return `${path.replace(/\/+$/, "")}${TEMP_MARK}${
    crypto.randomUUID().slice(0, 8)
  }`;
}

/** Writes all of `bytes` to an open file and flushes it to the disk. */
async function writeAllSynced(file: Deno.FsFile, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
  await file.sync();
}

/**
 * Writes `bytes` to a new file `path` (refused if it exists) and flushes it
 * to the disk: for files inside a temporary folder that is renamed into
 * place as a whole. Errors name `path` (and say so for a full disk).
 */
export async function writeNewFileSynced(
  path: string,
  bytes: Uint8Array,
): Promise<void> {
  try {
    await createSynced(path, bytes);
  } catch (e) {
    throw new Error(writeFailure(path, e));
  }
}

/** Creates `path` (refused if it exists) holding `bytes`, flushed to the disk. */
async function createSynced(path: string, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, {
    write: true,
    createNew: true,
    mode: 0o644,
  });
  try {
    await writeAllSynced(file, bytes);
  } finally {
    file.close();
  }
}

/** Creates the folder that will hold `path`, if it has one. */
export async function ensureParent(path: string): Promise<void> {
  const clean = path.replace(/\/+$/, "");
  const slash = clean.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(clean.slice(0, slash), { recursive: true });
}

/**
 * Writes `bytes` to `path` atomically and durably: a temporary file beside
 * it, flushed to disk, then renamed over `path`. On failure the temporary is
 * removed, whatever `path` held before is untouched, and the error names
 * `path` (and says so for a full disk).
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await createSynced(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(writeFailure(path, e));
  }
}

/** {@linkcode writeFileAtomic} for UTF-8 text. */
export async function writeTextFileAtomic(
  path: string,
  text: string,
): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

/** The message for a failed write of `path`: the cause, in words for a full disk. */
export function writeFailure(path: string, e: unknown): string {
  const msg = (e as Error)?.message ?? String(e);
  if (/No space left on device|ENOSPC|os error 28/i.test(msg)) {
    return `cannot write '${path}': the disk is full (No space left on device); what was there before is intact`;
  }
  return `cannot write '${path}': ${msg}`;
}

/**
 * Removes the temporaries ({@linkcode TEMP_MARK}) that an interrupted p2p
 * process left directly inside `dir`; returns their names. Only names p2p
 * itself creates are touched.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.includes(TEMP_MARK)) continue;
      await Deno.remove(`${dir}/${entry.name}`, { recursive: true });
      removed.push(entry.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return removed;
}
