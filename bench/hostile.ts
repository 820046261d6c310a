/**
 * Hostile inputs against bounded memory and time: each case writes a small
 * crafted file (a PNG header claiming 30000×30000, a stride-0 `expand` view
 * in a `.pth`, a 2 GiB deflate bomb, a 200,000-level pickle, …), loads it in
 * a fresh subprocess and reports that process's peak resident memory
 * (`VmHWM` of `/proc/self/status`) and wall time. Every case must end (with
 * a clear refusal, or a success within the limits) under 1 GiB and 10 s.
 *
 * ```sh
 * deno run -A bench/hostile.ts            # all cases, a table; exit 1 if any breaks a limit
 * deno run -A bench/hostile.ts --case pth-expand --file F   # one case (used by the table)
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { deflateSync } from "node:zlib";
import { readImage } from "@p2p/data";
import { loadStateDict } from "@p2p/interop";
import {
  concat,
  deepPicklePth,
  expandPth,
  hugeJpeg,
  hugePng,
  idatBombPng,
  op,
  pickleBombPth,
  pngChunk,
  pthZip,
  selfReferencePth,
  stateDictPickle,
} from "../tests/hostile_files.ts";

/** Peak memory allowed for one case. */
export const MEMORY_LIMIT_BYTES = 2 ** 30;
/** Time allowed for one case. */
export const TIME_LIMIT_S = 10;

/** One hostile case: how its file is made and how it is loaded. */
interface HostileCase {
  /** What the file is. */
  what: string;
  /** File name (its extension picks the loader). */
  file: string;
  /** Makes the file's bytes. */
  make: () => Uint8Array;
}

/** A 7000×7000 grey PNG of zeros: 49 MP, just under the default limit, so it decodes. */
function limitPng(): Uint8Array {
  const w = 7000, h = 7000;
  const be = (
    v: number,
  ) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  return concat([
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    pngChunk("IHDR", Uint8Array.from([...be(w), ...be(h), 8, 0, 0, 0, 0])),
    pngChunk("IDAT", deflateSync(new Uint8Array(h * (w + 1)))),
    pngChunk("IEND", new Uint8Array()),
  ]);
}

/** The cases, by name. */
export const CASES: Record<string, HostileCase> = {
  "png-30000x30000": {
    what: "PNG header claiming 30000×30000 (900 MP)",
    file: "huge.png",
    make: () => hugePng(30000, 30000),
  },
  "jpeg-65535x65535": {
    what: "JPEG SOF claiming 65535×65535",
    file: "huge.jpg",
    make: () => hugeJpeg(65535, 65535),
  },
  "png-idat-bomb": {
    what: "16×16 PNG whose IDAT inflates to 1 GiB",
    file: "bomb.png",
    make: () => idatBombPng(16, 16, 2 ** 30),
  },
  "png-49mp": {
    what: "valid 7000×7000 PNG (49 MP, under the limit: decoded)",
    file: "limit.png",
    make: limitPng,
  },
  "pth-expand": {
    what: ".pth: torch.zeros(1).expand(30000, 30000)",
    file: "expand.pth",
    make: () => expandPth(30000),
  },
  "pth-zip-bomb": {
    what: ".pth: data.pkl deflated, inflates to 2 GiB",
    file: "bomb.pth",
    make: () => pickleBombPth(2048),
  },
  "pth-zip-bomb-lying": {
    what: ".pth: the same bomb declaring 1000 bytes",
    file: "liar.pth",
    make: () => pickleBombPth(2048, 1000),
  },
  "pth-deep-pickle": {
    what: ".pth: pickle nesting 200,000 lists",
    file: "deep.pth",
    make: () => deepPicklePth(200_000),
  },
  "pth-self-reference": {
    what: ".pth: a list that contains itself",
    file: "self.pth",
    make: selfReferencePth,
  },
  "pth-shared-storage": {
    what: ".pth: 1000 tensors viewing one 4 MiB storage",
    file: "shared.pth",
    make: () =>
      pthZip(
        stateDictPickle(
          Array.from({ length: 1000 }, (_, i) => ({
            key: `w${i}`,
            storage: "0",
            storageSize: 2 ** 20,
            shape: [2 ** 20],
            stride: [1],
          })),
        ),
        { "0": 2 ** 20 },
      ),
  },
  "pth-long4": {
    what: ".pth: a 4 MiB LONG4 integer in the pickle",
    file: "long.pth",
    make: () =>
      pthZip(
        concat([
          op.proto,
          [0x8b, 0, 0, 0x40, 0],
          new Uint8Array(4 * 2 ** 20),
          op.stop,
        ]),
        {},
      ),
  },
  "pth-negative-length": {
    what: ".pth: BINSTRING of length −5 (reads backwards)",
    file: "negative.pth",
    make: () =>
      pthZip(concat([op.proto, [0x54, 0xfb, 0xff, 0xff, 0xff], op.stop]), {}),
  },
};

function peakBytes(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb * 1024;
}

/** Loads `file` as its extension says; returns what happened, in one line. */
async function load(file: string): Promise<string> {
  try {
    if (/\.pth$/.test(file)) {
      const sd = await loadStateDict(await Deno.readFile(file), file);
      return `loaded ${sd.size} tensors`;
    }
    const img = await readImage(file);
    return `decoded ${img.width}×${img.height}`;
  } catch (e) {
    return `refused: ${String((e as Error)?.message ?? e).split("\n")[0]}`;
  }
}

/** One row of the table. */
interface Row {
  name: string;
  what: string;
  fileBytes: number;
  outcome: string;
  peak: number;
  seconds: number;
}

async function runCase(name: string, dir: string): Promise<Row> {
  const c = CASES[name];
  const file = `${dir}/${c.file}`;
  const bytes = c.make();
  await Deno.writeFile(file, bytes);
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--case",
      name,
      "--file",
      file,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIME_LIMIT_S * 3 * 1000),
  });
  let outcome = "killed: ran past the time limit", peak = NaN;
  try {
    const r = await child.output();
    const text = new TextDecoder().decode(r.stdout).trim().split("\n").pop() ??
      "";
    try {
      const j = JSON.parse(text) as { outcome: string; peak: number };
      outcome = j.outcome.replaceAll(`${dir}/`, "");
      peak = j.peak;
    } catch {
      outcome = `crashed (exit ${r.code}): ${
        new TextDecoder().decode(r.stderr).trim().split("\n").slice(-1)[0]
      }`;
    }
  } catch (e) {
    outcome = `killed: ${(e as Error).message}`;
  }
  const seconds = (performance.now() - t0) / 1000;
  await Deno.remove(file);
  return {
    name,
    what: c.what,
    fileBytes: bytes.length,
    outcome,
    peak,
    seconds,
  };
}

function size(bytes: number): string {
  return bytes >= 2 ** 20
    ? `${(bytes / 2 ** 20).toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function table(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "p2p_hostile_" });
  const rows: Row[] = [];
  try {
    for (const name of Object.keys(CASES)) {
      const row = await runCase(name, dir);
      rows.push(row);
      console.error(`${name}: ${row.outcome.slice(0, 100)}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log(
    "| case | file | outcome | peak memory | time | within 1 GiB, 10 s |\n|---|---:|---|---:|---:|:---:|",
  );
  let bad = 0;
  for (const r of rows) {
    const ok = r.peak < MEMORY_LIMIT_BYTES && r.seconds < TIME_LIMIT_S;
    if (!ok) bad++;
    console.log(
      `| ${r.name}: ${r.what} | ${size(r.fileBytes)} | ${
        r.outcome.slice(0, 110)
      } | ${
        Number.isFinite(r.peak) ? `${(r.peak / 2 ** 20).toFixed(0)} MiB` : "?"
      } | ${r.seconds.toFixed(2)} s | ${ok ? "yes" : "**NO**"} |`,
    );
  }
  console.log(
    `\n${
      rows.length - bad
    } of ${rows.length} cases within the limits (peak = VmHWM of the whole Deno process, including its ~100 MiB start-up).`,
  );
  return bad ? 1 : 0;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { case: { type: "string" }, file: { type: "string" } },
    strict: true,
  });
  if (values.case) {
    if (!CASES[values.case] || !values.file) {
      console.error(
        `--case must be one of ${Object.keys(CASES).join(", ")}, with --file`,
      );
      Deno.exit(2);
    }
    const outcome = await load(values.file);
    console.log(JSON.stringify({ outcome, peak: peakBytes() }));
  } else {
    Deno.exit(await table());
  }
}
