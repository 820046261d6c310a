/**
 * A download progress bar on stderr: bytes done of the total, rate and ETA.
 * On a terminal it redraws one line; elsewhere (logs, CI) it prints a plain
 * line at every tenth of the transfer.
 *
 * @module
 */

/** Bytes in words: `512 B`, `1.5 KiB`, `23.4 MiB`, `1.02 GiB`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  if (u === 0) return `${n} B`;
  return `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)} ${
    units[u]
  }`;
}

/** Seconds as `42s`, `3m07s` or `1h02m`; `?` when unknown. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) {
    return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  }
  return `${Math.floor(t / 3600)}h${
    String(Math.floor(t / 60) % 60).padStart(2, "0")
  }m`;
}

/**
 * One progress line: `label [#####-----] 45% 4.50 MiB / 10.0 MiB 1.20 MiB/s ETA 4s`.
 * `total` null (unknown size) shows bytes and rate only.
 *
 * @example
 * ```ts
 * import { progressLine } from "@p2p/cli";
 * console.log(progressLine("facades.tar.gz", { done: 512, total: 1024, seconds: 2 }));
 * // facades.tar.gz [##########----------]  50% 512 B / 1.00 KiB 256 B/s ETA 2s
 * ```
 */
export function progressLine(
  label: string,
  state: { done: number; total: number | null; seconds: number },
): string {
  const { done, total, seconds } = state;
  const rate = seconds > 0 ? done / seconds : 0;
  const rateText = `${formatBytes(Math.round(rate))}/s`;
  if (total === null || total <= 0) {
    return `${label} ${formatBytes(done)} ${rateText}`;
  }
  const frac = Math.min(1, done / total);
  const width = 20, filled = Math.round(frac * width);
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  return `${label} [${bar}] ${String(Math.floor(frac * 100)).padStart(3)}% ${
    formatBytes(done)
  } / ${formatBytes(total)} ${rateText} ETA ${formatDuration(eta)}`;
}

/** Receives progress; {@linkcode consoleProgress} draws it. */
export interface ProgressSink {
  /** `done` bytes of `total` (null when unknown) transferred so far. */
  update(done: number, total: number | null): void;
  /** The transfer ended (successfully or not). */
  end(): void;
}

/**
 * A progress bar on stderr for `label`: redrawn in place on a terminal,
 * else one plain line per tenth of the transfer. `startedAt` bytes (a resumed
 * download) do not count towards the rate.
 */
export function consoleProgress(label: string, startedAt = 0): ProgressSink {
  const tty = Deno.stderr.isTerminal();
  const t0 = performance.now();
  const enc = new TextEncoder();
  let lastDraw = 0, lastTenth = -1, drawn = false;
  const write = (s: string) => Deno.stderr.writeSync(enc.encode(s));
  const line = (done: number, total: number | null) => {
    const seconds = (performance.now() - t0) / 1000;
    const l = progressLine(label, {
      done: done - startedAt,
      total: total === null ? null : total - startedAt,
      seconds,
    });
    return startedAt > 0 ? `${l} (resumed at ${formatBytes(startedAt)})` : l;
  };
  return {
    update(done, total) {
      const now = performance.now();
      if (tty) {
        if (now - lastDraw < 100 && done !== total) return;
        lastDraw = now;
        drawn = true;
        write(`\r\x1b[2K${line(done, total)}`);
        return;
      }
      const tenth = total ? Math.floor((done / total) * 10) : -1;
      if (tenth > lastTenth) {
        lastTenth = tenth;
        write(`${line(done, total)}\n`);
      }
    },
    end() {
      if (tty && drawn) write("\n");
    },
  };
}
