/**
 * Timing statistics and formatting for the benchmark.
 *
 * @module
 */

/** Minimum, median and maximum of a series of timings, in ms. */
export interface Stats {
  /** Fastest. */
  min: number;
  /** Median (mean of the two middle values for an even count). */
  median: number;
  /** Slowest. */
  max: number;
  /** The timings, in run order. */
  samples: number[];
}

/** Summarises timings; throws on an empty series. */
export function summarize(samples: number[]): Stats {
  if (samples.length === 0) throw new RangeError("summarize: no timings");
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], samples };
}

/** `min / median / max` in ms, rounded for display. */
export function formatStats(s: Stats): string {
  return `${fmtMs(s.min)} / ${fmtMs(s.median)} / ${fmtMs(s.max)}`;
}

/** A duration in ms with precision that suits its size. */
export function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/** Renders a Markdown table (first row is the header). */
export function markdownTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) =>
    Math.max(...rows.map((r) => (r[c] ?? "").length))
  );
  const line = (r: string[]) =>
    `| ${r.map((v, c) => (v ?? "").padEnd(widths[c])).join(" | ")} |`;
  return [
    line(rows[0]),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.slice(1).map(line),
  ].join("\n");
}
