/**
 * Downloads one file over HTTP(S) the way large data sets need it: into a
 * recognisable partial file beside the destination (`NAME.p2p-partial`, with
 * `NAME.p2p-partial.json` recording the address and the announced size), with
 * a progress bar, resumed with an HTTP `Range` request when a previous run was
 * interrupted, checked against the size the server announced
 * (`Content-Length` / `Content-Range`), and renamed into place only when
 * complete. The destination is never half-written.
 *
 * @module
 */
import { exists, writeTextFileAtomic } from "@p2p/internal";
import { consoleProgress, type ProgressSink } from "./progress_bar.ts";

/** Suffix of an interrupted download's partial file. */
export const PARTIAL_SUFFIX = ".p2p-partial";

/** A download that failed; the message names the address and what happened. */
export class DownloadError extends Error {
  /** The HTTP status, when the server answered with an error. */
  readonly status: number | null;
  /** Creates the error. */
  constructor(message: string, status: number | null = null) {
    super(message);
    this.name = "DownloadError";
    this.status = status;
  }
}

/** Options of {@linkcode downloadFile}. */
export interface DownloadOptions {
  /** Where progress goes; null shows none. @default a progress bar on stderr */
  progress?: ProgressSink | null;
  /** Name shown on the progress bar. @default the destination's file name */
  label?: string;
  /** Cancels the transfer (the partial file is kept for a resume). */
  signal?: AbortSignal;
}

/** What {@linkcode downloadFile} did. */
export interface DownloadResult {
  /** The file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** Bytes that were already there from an interrupted run (0 for a fresh download). */
  resumedAt: number;
}

interface PartialMeta {
  url: string;
  total: number | null;
}

/** Parses a Content-Range header: `bytes START-END/TOTAL` (TOTAL may be a star), or a star then `/TOTAL`. */
export function parseContentRange(
  header: string | null,
): { start: number | null; end: number | null; total: number | null } | null {
  if (!header) return null;
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(header.trim());
  if (!m) return null;
  return {
    start: m[1] === undefined ? null : Number(m[1]),
    end: m[2] === undefined ? null : Number(m[2]),
    total: m[3] === "*" ? null : Number(m[3]),
  };
}

async function readMeta(path: string): Promise<PartialMeta | null> {
  try {
    const m = JSON.parse(await Deno.readTextFile(path));
    return typeof m?.url === "string" ? m : null;
  } catch {
    return null;
  }
}

async function discard(partial: string): Promise<void> {
  await Deno.remove(partial).catch(() => {});
  await Deno.remove(`${partial}.json`).catch(() => {});
}

/** How the response continues (or restarts) the partial file. */
interface Plan {
  append: boolean;
  have: number;
  total: number | null;
  complete: boolean;
}

async function planFrom(
  res: Response,
  url: string,
  have: number,
  meta: PartialMeta | null,
  partial: string,
): Promise<Plan> {
  if (res.status === 206) {
    const cr = parseContentRange(res.headers.get("content-range"));
    if (!cr || cr.start !== have) {
      await res.body?.cancel();
      await discard(partial);
      throw new DownloadError(
        `${url}: asked to resume at byte ${have}, the server sent Content-Range "${
          res.headers.get("content-range")
        }"; the partial download was removed, run the command again to start over`,
      );
    }
    if (meta?.total != null && cr.total !== null && cr.total !== meta.total) {
      await res.body?.cancel();
      await discard(partial);
      throw new DownloadError(
        `${url}: the file is now ${cr.total} bytes on the server, the interrupted download expected ${meta.total}; the partial download was removed, run the command again to start over`,
      );
    }
    return {
      append: true,
      have,
      total: cr.total ?? meta?.total ?? null,
      complete: false,
    };
  }
  if (res.status === 416 && have > 0) {
    await res.body?.cancel();
    const cr = parseContentRange(res.headers.get("content-range"));
    if (cr?.total === have && (meta?.total ?? have) === have) {
      return { append: true, have, total: have, complete: true };
    }
    await discard(partial);
    throw new DownloadError(
      `${url}: the server refused to resume at byte ${have} (HTTP 416, size ${
        cr?.total ?? "unknown"
      }); the partial download was removed, run the command again to start over`,
      416,
    );
  }
  if (res.ok) {
    const len = res.headers.get("content-length");
    const total = len !== null && /^\d+$/.test(len) ? Number(len) : null;
    return { append: false, have: 0, total, complete: false };
  }
  await res.body?.cancel();
  throw new DownloadError(
    `${url}: HTTP ${res.status} ${res.statusText}${
      res.status === 404
        ? " (no such file there: check the name, or the --mirror / P2P_MIRROR address)"
        : ""
    }`,
    res.status,
  );
}

async function receive(
  res: Response,
  url: string,
  partial: string,
  plan: Plan,
  progress: ProgressSink | null,
): Promise<number> {
  const file = await Deno.open(partial, {
    write: true,
    create: true,
    append: plan.append,
    truncate: !plan.append,
  });
  let have = plan.have;
  try {
    progress?.update(have, plan.total);
    for await (const chunk of res.body!) {
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
      have += chunk.length;
      if (plan.total !== null && have > plan.total) {
        throw new DownloadError(
          `${url}: received more than the ${plan.total} bytes the server announced`,
        );
      }
      progress?.update(have, plan.total);
    }
    await file.sync();
  } catch (e) {
    if (e instanceof DownloadError) {
      file.close();
      await discard(partial);
      throw new DownloadError(`${e.message}; the partial download was removed`);
    }
    throw new DownloadError(
      `${url}: the transfer was interrupted after ${have}${
        plan.total === null ? "" : ` of ${plan.total}`
      } bytes (${
        (e as Error).message
      }); the partial file ${partial} is kept: run the same command again to resume`,
    );
  } finally {
    try {
      file.close();
    } catch { /* already closed */ }
  }
  return have;
}

/**
 * Downloads `url` to `dest` (see the module doc): resumes a partial file left
 * by an interrupted run for the same address, checks the announced size, and
 * renames the complete file into place. Throws {@linkcode DownloadError}
 * naming the address for HTTP errors, interruptions (the partial file is kept
 * to resume) and size mismatches; `dest` is then untouched.
 */
export async function downloadFile(
  url: string,
  dest: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  const partial = `${dest}${PARTIAL_SUFFIX}`;
  const metaPath = `${partial}.json`;
  const meta = await readMeta(metaPath);
  let have = 0;
  if (await exists(partial)) {
    if (meta?.url === url) have = (await Deno.stat(partial)).size;
    else await discard(partial);
  }
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (have > 0) headers.range = `bytes=${have}-`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: options.signal });
  } catch (e) {
    throw new DownloadError(`cannot reach ${url}: ${(e as Error).message}`);
  }
  const plan = await planFrom(res, url, have, meta, partial);
  const progress = options.progress === undefined
    ? consoleProgress(options.label ?? dest.split("/").pop()!, plan.have)
    : options.progress;
  let got = plan.have;
  try {
    if (!plan.complete) {
      await writeTextFileAtomic(
        metaPath,
        JSON.stringify({ url, total: plan.total } satisfies PartialMeta),
      );
      got = await receive(res, url, partial, plan, progress);
    }
  } finally {
    progress?.end();
  }
  if (plan.total !== null && got !== plan.total) {
    throw new DownloadError(
      `${url}: received ${got} bytes, the server announced ${plan.total}; the partial file ${partial} is kept: run the same command again to resume`,
    );
  }
  await Deno.rename(partial, dest);
  await Deno.remove(metaPath).catch(() => {});
  return { path: dest, bytes: got, resumedAt: plan.have };
}
