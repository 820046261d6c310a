/**
 * Extracts a `.tar.gz` safely with the maintained `tar-stream` library and
 * node:zlib (no hand-written tar reader): only regular files and folders are
 * created; names that are absolute or climb out with `..` are refused; links
 * are never created (they are counted and skipped); entry sizes, the total
 * size and the entry count are bounded. Everything goes to a temporary folder
 * beside the destination that takes its place only when the archive was read
 * to its end, so a truncated or hostile archive leaves nothing behind.
 *
 * @module
 */
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { pipeline } from "node:stream/promises";
import * as tarStream from "tar-stream";
import { exists, tempPathFor } from "@p2p/internal";

/** Limits of {@linkcode extractTarGz}. */
export interface ExtractOptions {
  /** Largest file in the archive. @default 4 GiB */
  maxEntryBytes?: number;
  /** Largest sum of file sizes. @default 64 GiB */
  maxTotalBytes?: number;
  /** Most entries. @default 1,000,000 */
  maxEntries?: number;
}

/** What {@linkcode extractTarGz} extracted. */
export interface ExtractResult {
  /** Regular files written. */
  files: number;
  /** Their total size. */
  bytes: number;
  /** Links (symbolic or hard) and special entries skipped. */
  skipped: string[];
}

interface TarHeader {
  name: string;
  type: string;
  size?: number;
  linkname?: string | null;
}

interface TarEntry extends AsyncIterable<Uint8Array> {
  header: TarHeader;
  resume(): void;
}

type Extractor = AsyncIterable<TarEntry> & NodeJS.WritableStream;

/** The safe relative path of an archive entry, or an error naming it. */
export function safeEntryPath(name: string, archive: string): string {
  if (name.includes("\0") || name.includes("\\")) {
    throw new Error(
      `${archive}: entry "${name}" has a NUL or backslash in its name; refusing to extract`,
    );
  }
  if (name.startsWith("/")) {
    throw new Error(
      `${archive}: entry "${name}" is an absolute path; refusing to extract`,
    );
  }
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) {
    throw new Error(
      `${archive}: entry "${name}" climbs out of the destination with ".."; refusing to extract`,
    );
  }
  return parts.join("/");
}

async function writeEntry(
  entry: TarEntry,
  path: string,
  limit: number,
  archive: string,
): Promise<number> {
  const file = await Deno.open(path, {
    write: true,
    createNew: true,
    mode: 0o644,
  });
  let n = 0;
  try {
    for await (const chunk of entry) {
      n += chunk.length;
      if (n > limit) {
        throw new Error(
          `${archive}: entry "${entry.header.name}" is larger than the ${limit}-byte limit`,
        );
      }
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
    }
  } finally {
    file.close();
  }
  return n;
}

async function extractInto(
  archive: string,
  tmp: string,
  options: ExtractOptions,
): Promise<ExtractResult> {
  const maxEntry = options.maxEntryBytes ?? 4 * 2 ** 30;
  const maxTotal = options.maxTotalBytes ?? 64 * 2 ** 30;
  const maxEntries = options.maxEntries ?? 1_000_000;
  const extract = (tarStream as unknown as { extract(): Extractor }).extract();
  const feeding = pipeline(createReadStream(archive), createGunzip(), extract);
  const result: ExtractResult = { files: 0, bytes: 0, skipped: [] };
  let entries = 0;
  const consume = async () => {
    for await (const entry of extract) {
      const h = entry.header;
      if (++entries > maxEntries) {
        throw new Error(`${archive}: more than ${maxEntries} entries`);
      }
      const rel = safeEntryPath(h.name, archive);
      if (h.type === "directory") {
        if (rel) await Deno.mkdir(`${tmp}/${rel}`, { recursive: true });
        entry.resume();
        continue;
      }
      if (h.type !== "file" && h.type !== "contiguous-file") {
        result.skipped.push(`${h.name} (${h.type})`);
        entry.resume();
        continue;
      }
      if (!rel) throw new Error(`${archive}: a file entry has an empty name`);
      if ((h.size ?? 0) > maxEntry || result.bytes + (h.size ?? 0) > maxTotal) {
        throw new Error(
          `${archive}: entry "${h.name}" (${h.size} bytes) passes the size limits (${maxEntry} per file, ${maxTotal} in all)`,
        );
      }
      const dst = `${tmp}/${rel}`;
      await Deno.mkdir(dst.slice(0, dst.lastIndexOf("/")), { recursive: true });
      result.bytes += await writeEntry(entry, dst, maxEntry, archive);
      result.files++;
    }
  };
  const [fed, consumed] = await Promise.allSettled([feeding, consume()]);
  if (consumed.status === "rejected") {
    extract.end?.();
    const reason = consumed.reason as Error;
    // Our own refusals name the archive; anything else is the stream failing.
    if (String(reason?.message).startsWith(`${archive}:`)) throw reason;
  }
  if (fed.status === "rejected" || consumed.status === "rejected") {
    const cause = fed.status === "rejected"
      ? fed.reason
      : (consumed as PromiseRejectedResult).reason;
    const msg = (cause as Error)?.message ?? String(cause);
    throw new Error(`${archive}: the archive is damaged or truncated (${msg})`);
  }
  return result;
}

/**
 * Extracts the `.tar.gz` file `archive` into the new folder `dest` (which
 * must not exist): see the module doc for the safety rules. On any failure
 * nothing is left at `dest`.
 */
export async function extractTarGz(
  archive: string,
  dest: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  if (await exists(dest)) {
    throw new Error(
      `${dest} already exists; p2p extracts only into a new folder`,
    );
  }
  const tmp = tempPathFor(dest);
  await Deno.mkdir(tmp, { recursive: true });
  try {
    const result = await extractInto(archive, tmp, options);
    await Deno.rename(tmp, dest);
    return result;
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}
