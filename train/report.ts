/**
 * The training run's web page: `OUT/index.html` with an inline SVG plot of
 * the losses and the sample grids grouped by epoch, newest first.
 *
 * @module
 */

/** One line of `log.jsonl`. */
export interface LogRecord {
  /** 1-based epoch. */
  epoch: number;
  /** Steps done in the run after this one. */
  step: number;
  /** Learning rate during the step. */
  lr: number;
  /** Seconds since the run started (over all sessions). */
  time: number;
  /** GAN loss of G. */
  G_GAN: number;
  /** λ · L1 of G. */
  G_L1: number;
  /** D's loss on real pairs. */
  D_real: number;
  /** D's loss on fake pairs. */
  D_fake: number;
  /** D's gradient penalty (wgangp). */
  D_GP?: number;
}

/** A sample grid written during training. */
export interface SampleEntry {
  /** Path relative to the run folder (e.g. `samples/epoch_1_step_100.png`). */
  path: string;
  /** Epoch it was written in. */
  epoch: number;
  /** Step it was written after. */
  step: number;
}

/** What {@linkcode renderIndexHtml} shows. */
export interface ReportInput {
  /** Page title. */
  title: string;
  /** Key facts shown under the title (name → value). */
  facts: Record<string, string | number>;
  /** The loss log. */
  log: readonly LogRecord[];
  /** Sample grids. */
  samples: readonly SampleEntry[];
  /** Final evaluation line, if any. */
  evaluation?: string;
}

const SERIES: { key: keyof LogRecord; color: string }[] = [
  { key: "G_GAN", color: "#1f77b4" },
  { key: "D_real", color: "#2ca02c" },
  { key: "D_fake", color: "#d62728" },
  { key: "D_GP", color: "#9467bd" },
  { key: "G_L1", color: "#ff7f0e" },
];

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Averages `values` into at most `n` buckets (keeps plots light). */
function bucket(
  xs: number[],
  ys: number[],
  n: number,
): { x: number[]; y: number[] } {
  if (xs.length <= n) return { x: xs, y: ys };
  const x: number[] = [];
  const y: number[] = [];
  const size = xs.length / n;
  for (let b = 0; b < n; b++) {
    const lo = Math.floor(b * size), hi = Math.floor((b + 1) * size);
    let sx = 0, sy = 0;
    for (let i = lo; i < hi; i++) {
      sx += xs[i];
      sy += ys[i];
    }
    x.push(sx / (hi - lo));
    y.push(sy / (hi - lo));
  }
  return { x, y };
}

function panel(
  log: readonly LogRecord[],
  keys: (keyof LogRecord)[],
  title: string,
  width: number,
  height: number,
): string {
  const pad = { l: 48, r: 12, t: 20, b: 28 };
  const series = SERIES.filter((s) => keys.includes(s.key)).map((s) => {
    const pts = log.filter((r) => Number.isFinite(r[s.key] as number));
    return {
      ...s,
      ...bucket(
        pts.map((r) => r.step),
        pts.map((r) => r[s.key] as number),
        400,
      ),
    };
  }).filter((s) => s.x.length > 0 && s.y.some((v) => v !== 0));
  const allX = series.flatMap((s) => s.x);
  const allY = series.flatMap((s) => s.y);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${
      escapeHtml(title)
    }">`,
    `<rect width="${width}" height="${height}" fill="#fff" stroke="#ccc"/>`,
    `<text x="${pad.l}" y="14" font-size="12" font-family="sans-serif">${
      escapeHtml(title)
    }</text>`,
  ];
  if (allX.length === 0) {
    parts.push(
      `<text x="${width / 2}" y="${
        height / 2
      }" font-size="12" text-anchor="middle" font-family="sans-serif">no data yet</text></svg>`,
    );
    return parts.join("");
  }
  const x0 = Math.min(...allX), x1 = Math.max(...allX, x0 + 1);
  const y0 = Math.min(0, ...allY), y1 = Math.max(...allY, y0 + 1e-6);
  const W = width - pad.l - pad.r, H = height - pad.t - pad.b;
  const sx = (x: number) => pad.l + (x - x0) / (x1 - x0) * W;
  const sy = (y: number) => pad.t + H - (y - y0) / (y1 - y0) * H;
  for (let i = 0; i <= 4; i++) {
    const v = y0 + (y1 - y0) * i / 4;
    const y = sy(v).toFixed(1);
    parts.push(
      `<line x1="${pad.l}" x2="${
        pad.l + W
      }" y1="${y}" y2="${y}" stroke="#eee"/><text x="${
        pad.l - 4
      }" y="${y}" font-size="10" text-anchor="end" dominant-baseline="middle" font-family="sans-serif">${
        Number(v.toPrecision(3))
      }</text>`,
    );
  }
  parts.push(
    `<text x="${pad.l}" y="${
      height - 8
    }" font-size="10" font-family="sans-serif">step ${x0}</text>`,
    `<text x="${pad.l + W}" y="${
      height - 8
    }" font-size="10" text-anchor="end" font-family="sans-serif">step ${
      Math.round(x1)
    }</text>`,
  );
  series.forEach((s, k) => {
    const d = s.x.map((x, i) =>
      `${i === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(s.y[i]).toFixed(1)}`
    ).join("");
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.2"/>`,
      `<text x="${pad.l + W - 4}" y="${
        pad.t + 12 + 12 * k
      }" font-size="11" text-anchor="end" fill="${s.color}" font-family="sans-serif">${
        String(s.key)
      }</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}

/**
 * An inline SVG plot of the losses: one panel for the GAN terms (`G_GAN`,
 * `D_real`, `D_fake`, `D_GP`) and one for `G_L1` (a larger scale).
 */
export function lossPlotSvg(log: readonly LogRecord[]): string {
  return panel(
    log,
    ["G_GAN", "D_real", "D_fake", "D_GP"],
    "GAN losses",
    640,
    220,
  ) +
    "\n" + panel(log, ["G_L1"], "G_L1 (λ · L1)", 640, 220);
}

/** Renders `index.html`: facts, loss plot, sample grids by epoch (newest first). */
export function renderIndexHtml(input: ReportInput): string {
  const facts = Object.entries(input.facts).map(([k, v]) =>
    `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`
  ).join("\n");
  const byEpoch = new Map<number, SampleEntry[]>();
  for (const s of input.samples) {
    byEpoch.set(s.epoch, [...(byEpoch.get(s.epoch) ?? []), s]);
  }
  const epochs = [...byEpoch.keys()].sort((a, b) => b - a);
  const grids = epochs.map((e) => {
    const items = byEpoch.get(e)!.sort((a, b) => b.step - a.step).map((s) =>
      `<figure><img src="${
        escapeHtml(s.path)
      }" alt="epoch ${e} step ${s.step}"><figcaption>step ${s.step}</figcaption></figure>`
    ).join("\n");
    return `<section><h3>epoch ${e}</h3>\n${items}\n</section>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(input.title)}</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { text-align: left; padding: 2px 10px 2px 0; font-size: 14px; }
figure { display: inline-block; margin: 0 12px 12px 0; }
figure img { image-rendering: pixelated; min-width: 384px; max-width: 100%; border: 1px solid #ccc; }
figcaption { font-size: 12px; color: #555; }
.eval { font-weight: bold; }
</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<table>
${facts}
</table>
${input.evaluation ? `<p class="eval">${escapeHtml(input.evaluation)}</p>` : ""}
<h2>Losses</h2>
${lossPlotSvg(input.log)}
<h2>Samples (input | output | target)</h2>
${grids || "<p>No samples yet.</p>"}
</body>
</html>
`;
}
