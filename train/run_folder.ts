/**
 * The run folder: what p2p writes there, how an earlier run in it is
 * refused, continued or (with force) replaced, and the log and sample list
 * a resumed run reads back.
 *
 * Layout: `log.jsonl` (one {@linkcode LogRecord} per step),
 * `samples/epoch_<e>_step_<s>.png`, `index.html`, `final_eval.json`,
 * `checkpoints/latest` and `checkpoints/epoch_<n>`.
 *
 * @module
 */
import { exists, removeStaleTemporaries } from "@p2p/internal";
import { removeUnfinishedCheckpoints } from "./checkpoint.ts";
import type { LogRecord, SampleEntry } from "./report.ts";

/** How a run treats an earlier run in its folder. */
export interface RunFolderOptions {
  /** Continue the earlier run. */
  resume: boolean;
  /** Replace the earlier run (its p2p-written files only, once the new run has started). */
  force: boolean;
}

const SAMPLE_NAME = /^epoch_(\d+)_step_(\d+)\.png$/;
const CHECKPOINT_NAME = /^(latest|epoch_\d+)(\.old-[0-9a-f]{8})?$/;

/** Whether `out` holds a run p2p wrote (a log or a checkpoint). */
export async function holdsRun(out: string): Promise<boolean> {
  return await exists(`${out}/log.jsonl`) ||
    await exists(`${out}/checkpoints/latest`);
}

/**
 * Checks the run folder before anything is written: an earlier run there is
 * refused unless `resume` or `force` is given (the message says which).
 * Returns what replacing it takes, to be called once the new run has
 * started (`null`: nothing to replace).
 */
export async function claimRunFolder(
  out: string,
  options: RunFolderOptions,
): Promise<(() => Promise<void>) | null> {
  if (options.resume || !(await holdsRun(out))) return null;
  if (!options.force) {
    throw new Error(
      `${out} holds an earlier run (log.jsonl, checkpoints/); continue it with --resume, or replace it with --force (only the files p2p wrote there are removed)`,
    );
  }
  return () => removeRun(out);
}

/** Removes the files a p2p run wrote in `out`, and nothing else. */
export async function removeRun(out: string): Promise<void> {
  for (const f of ["log.jsonl", "index.html", "final_eval.json"]) {
    await Deno.remove(`${out}/${f}`).catch(() => {});
  }
  await removeMatching(`${out}/samples`, SAMPLE_NAME);
  await removeMatching(`${out}/checkpoints`, CHECKPOINT_NAME);
}

async function removeMatching(dir: string, name: RegExp): Promise<void> {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (name.test(e.name)) {
        await Deno.remove(`${dir}/${e.name}`, { recursive: true });
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * Removes what a killed run left half-written in `out` (checkpoint saves,
 * the log or page being replaced); returns the paths removed.
 */
export async function cleanInterrupted(out: string): Promise<string[]> {
  const removed = await removeUnfinishedCheckpoints(`${out}/checkpoints`);
  for (const name of await removeStaleTemporaries(out)) {
    removed.push(`${out}/${name}`);
  }
  for (const name of await removeStaleTemporaries(`${out}/samples`)) {
    removed.push(`${out}/samples/${name}`);
  }
  return removed;
}

/** The log of a run up to `upToStep` (a line cut short by a crash is dropped). */
export async function readLog(
  path: string,
  upToStep: number,
): Promise<LogRecord[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const out: LogRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line) as LogRecord;
      if (r.step <= upToStep) out.push(r);
    } catch {
      // A line cut short by a crash: dropped.
    }
  }
  return out;
}

/** The sample grids in a run folder, by step. */
export async function listSamples(dir: string): Promise<SampleEntry[]> {
  const out: SampleEntry[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/samples`)) {
      const m = SAMPLE_NAME.exec(e.name);
      if (m) {
        out.push({
          path: `samples/${e.name}`,
          epoch: Number(m[1]),
          step: Number(m[2]),
        });
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a.step - b.step);
}
