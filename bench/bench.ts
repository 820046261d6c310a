/**
 * `deno task bench`: pix2pix training-step and inference timings on this
 * machine, side by side with PyTorch running the same networks and step.
 *
 * Configurations: `full` (U-Net depth 8, ngf 64 + 70×70 PatchGAN ndf 64,
 * 256×256, batch 1) and `small` (128×128, depth 7, ngf = ndf = 32). For each:
 * ms per training step (`@p2p/train`'s step: G forward, D on real and detached
 * fake + Adam, G loss GAN + 100·L1 through the frozen D + Adam) and per G
 * inference (training mode, as the reference tests), min / median / max over
 * `--steps` runs after `--warmup`; GFLOP/s from the reference's cost figures;
 * the share of a matmul peak measured here on the same backend; and growth of
 * `tf.memory().numTensors`. When `/usr/bin/python3` imports torch, the PyTorch
 * harness (`bench/torch_bench.py`) runs in the same invocation and the table
 * shows p2p ÷ PyTorch.
 *
 * ```sh
 * deno task bench [--backend wasm|cpu|webgpu|auto] [--config full|small|both]
 *   [--steps 5] [--warmup 2] [--threads N] [--blas auto|off|PATH]
 *   [--kernels p2p|stock] [--adam tfjs|fused] [--no-torch] [--torch-threads 2]
 *   [--profile] [--write]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { patchDiscriminator, unet } from "@p2p/models";
import { createTrainer } from "@p2p/train";
import { type BackendName, selectBackend } from "@p2p/backend";
import {
  registerFastWasmKernels,
  startWasmBackend,
} from "../backend/wasm_kernels.ts";
import {
  fmtMs,
  formatStats,
  markdownTable,
  type Stats,
  summarize,
} from "./stats.ts";
import { type KernelProfile, profileKernels } from "./profile.ts";

/** A benchmarked network configuration with the reference's cost figures. */
export interface BenchConfig {
  /** Name on the command line. */
  name: "full" | "small";
  /** Image side. */
  size: number;
  /** U-Net depth. */
  depth: number;
  /** Generator filters. */
  ngf: number;
  /** Discriminator filters. */
  ndf: number;
  /** GFLOP of one training step (REFERENCE.md). */
  trainGflop: number;
  /** GFLOP of one G inference (REFERENCE.md). */
  inferGflop: number;
}

/** The two configurations of the issue. */
export const CONFIGS: Record<"full" | "small", BenchConfig> = {
  full: {
    name: "full",
    size: 256,
    depth: 8,
    ngf: 64,
    ndf: 64,
    trainGflop: 87,
    inferGflop: 12.1,
  },
  small: {
    name: "small",
    size: 128,
    depth: 7,
    ngf: 32,
    ndf: 32,
    trainGflop: 5.4,
    inferGflop: 0.77,
  },
};

/** One configuration's p2p timings. */
export interface P2pResult {
  /** Training step timings. */
  train: Stats;
  /** G inference timings. */
  infer: Stats;
  /** numTensors growth over the timed training steps. */
  trainTensorGrowth: number;
  /** numTensors growth over the timed inferences. */
  inferTensorGrowth: number;
  /** Per-kernel profile of one training step and one inference (`--profile`). */
  profile?: { train: KernelProfile; infer: KernelProfile };
}

/** What the PyTorch harness printed. */
export interface TorchResult {
  /** torch version. */
  torch: string;
  /** Threads it ran with. */
  threads: number;
  /** Its own fp32 matmul peak (2048²), GFLOP/s. */
  matmul_gflops: number;
  /** Timings by configuration name. */
  configs: Record<string, { train_ms: number[]; infer_ms: number[] }>;
}

const PYTHON = "/usr/bin/python3";

function machine(): string {
  let cpu = "unknown CPU";
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    cpu = /model name\s*:\s*(.*)/.exec(info)?.[1]?.trim() ?? cpu;
  } catch { /* not Linux */ }
  const cores = navigator.hardwareConcurrency ?? 1;
  let mem = "";
  try {
    const kb = Number(
      /MemTotal:\s*(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1],
    );
    if (kb) mem = `, ${Math.round(kb / 1048576)} GiB`;
  } catch { /* not Linux */ }
  return `${cpu}, ${cores} logical cores${mem}`;
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(
      " ",
    );
  } catch {
    return "n/a";
  }
}

async function sync(t: tf.Tensor): Promise<void> {
  await t.data();
}

/** Best GFLOP/s of an n×n fp32 matmul on the current backend. */
export async function matmulPeak(n = 2048, reps = 5): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, "float32", 1) as tf.Tensor2D;
  const b = tf.randomNormal([n, n], 0, 1, "float32", 2) as tf.Tensor2D;
  let best = Infinity;
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await sync(c);
    const ms = performance.now() - t0;
    c.dispose();
    if (i > 0) best = Math.min(best, ms); // the first call warms up
  }
  tf.dispose([a, b]);
  return 2 * n ** 3 / (best / 1000) / 1e9;
}

/** Times training steps and G inferences of one configuration on the current backend. */
export async function benchP2p(
  config: BenchConfig,
  steps: number,
  warmup: number,
  profile: boolean,
  adam: "tfjs" | "fused" = "tfjs",
): Promise<P2pResult> {
  const g = unet({ depth: config.depth, ngf: config.ngf, size: config.size });
  const d = patchDiscriminator({
    layers: 3,
    ndf: config.ndf,
    size: config.size,
  });
  // createTrainer's Adam is fused wherever the P2pAdamUpdate kernel is registered.
  void adam;
  const trainer = createTrainer(g, d);
  const s = config.size;
  const x = tf.randomUniform([1, s, s, 3], -1, 1, "float32", 1) as tf.Tensor4D;
  const y = tf.randomUniform([1, s, s, 3], -1, 1, "float32", 2) as tf.Tensor4D;
  const step = () => trainer.step(x, y);
  const infer = async () => {
    const out = tf.tidy(() => g.apply(x, { training: true }) as tf.Tensor);
    await sync(out);
    out.dispose();
  };
  const time = async (f: () => Promise<unknown>): Promise<[Stats, number]> => {
    for (let i = 0; i < warmup; i++) await f();
    const before = tf.memory().numTensors;
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await f();
      ms.push(performance.now() - t0);
    }
    return [summarize(ms), tf.memory().numTensors - before];
  };
  const [train, trainTensorGrowth] = await time(step);
  const [inferStats, inferTensorGrowth] = await time(infer);
  const result: P2pResult = {
    train,
    infer: inferStats,
    trainTensorGrowth,
    inferTensorGrowth,
  };
  if (profile) {
    result.profile = {
      train: await profileKernels(step),
      infer: await profileKernels(infer),
    };
  }
  trainer.dispose();
  tf.dispose([x, y]);
  g.dispose();
  d.dispose();
  return result;
}

/** Whether `/usr/bin/python3` can import torch. */
export async function torchAvailable(): Promise<boolean> {
  try {
    const r = await new Deno.Command(PYTHON, {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

/** Runs bench/torch_bench.py and parses its JSON. */
export async function benchTorch(
  configs: BenchConfig[],
  steps: number,
  warmup: number,
  threads: number,
): Promise<TorchResult> {
  const script = new URL("./torch_bench.py", import.meta.url).pathname;
  const config = configs.length === 2 ? "both" : configs[0].name;
  const n = String(threads);
  const r = await new Deno.Command(PYTHON, {
    args: [
      script,
      "--config",
      config,
      "--steps",
      String(steps),
      "--warmup",
      String(warmup),
      "--threads",
      n,
    ],
    env: { OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout).trim();
  if (!r.success) {
    throw new Error(
      `bench/torch_bench.py failed (exit ${r.code}): ${
        new TextDecoder().decode(r.stderr).slice(-2000)
      }`,
    );
  }
  return JSON.parse(out.split("\n").pop()!) as TorchResult;
}

function profileTable(title: string, p: KernelProfile, peak: number): string {
  const rows = [[
    "kernel",
    "ms",
    "calls",
    "% of kernels",
    "GFLOP/s",
    "% of peak",
  ]];
  for (const k of p.byKernel.slice(0, 14)) {
    const gf = k.flops > 0 ? k.flops / (k.ms / 1000) / 1e9 : 0;
    rows.push([
      k.name,
      fmtMs(k.ms),
      String(k.calls),
      (100 * k.ms / p.kernelMs).toFixed(1),
      gf ? gf.toFixed(1) : "",
      gf ? (100 * gf / peak).toFixed(0) : "",
    ]);
  }
  const convRows = [[
    "conv kernel",
    "shapes (inputs → output)",
    "calls",
    "ms",
    "GFLOP/s",
  ]];
  for (const c of p.convs.slice(0, 12)) {
    convRows.push([
      c.name,
      c.shapes,
      String(c.calls),
      fmtMs(c.ms),
      (c.flops / (c.ms / 1000) / 1e9).toFixed(1),
    ]);
  }
  return `#### ${title}: ${fmtMs(p.wallMs)} ms wall, ${
    fmtMs(p.kernelMs)
  } ms in kernels\n\n` +
    `${markdownTable(rows)}\n\nSlowest convolution kernels by shape:\n\n${
      markdownTable(convRows)
    }\n`;
}

async function writeResults(block: string): Promise<string> {
  const path = new URL("./RESULTS.md", import.meta.url).pathname;
  const begin = "<!-- bench:begin -->";
  const end = "<!-- bench:end -->";
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    text = `# Benchmark results\n\n${begin}\n${end}\n`;
  }
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  const body = `${begin}\n${block}\n${end}`;
  text = i >= 0 && j > i
    ? text.slice(0, i) + body + text.slice(j + end.length)
    : `${text}\n${body}\n`;
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
  // Keep the file as `deno fmt` wants it (`deno task check` runs fmt --check).
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", path],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  return path;
}

const USAGE = `usage: deno task bench [options]
  --backend wasm|cpu|webgpu|auto  backend (default wasm)
  --config full|small|both        configurations (default both)
  --steps N                       timed runs after warm-up (default 5, at least 5 for the table)
  --warmup N                      warm-up runs (default 2)
  --threads N                     wasm threads (default: logical cores)
  --blas auto|off|PATH            native BLAS for wasm convolutions (default auto)
  --kernels p2p|stock             p2p's wasm kernels, or tfjs-wasm's own plus the missing filter gradient
  --adam tfjs|fused               the trainer's Adam as @p2p/train makes it, or p2p's fusedAdam in its place
  --no-torch                      skip the PyTorch side
  --torch-threads N               PyTorch threads (default 2)
  --profile                       per-kernel profile of one step and one inference
  --write                         write the table to bench/RESULTS.md`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      backend: { type: "string", default: "wasm" },
      config: { type: "string", default: "both" },
      steps: { type: "string", default: "5" },
      warmup: { type: "string", default: "2" },
      threads: { type: "string" },
      blas: { type: "string", default: "auto" },
      kernels: { type: "string", default: "p2p" },
      adam: { type: "string", default: "tfjs" },
      "no-torch": { type: "boolean", default: false },
      "torch-threads": { type: "string", default: "2" },
      profile: { type: "boolean", default: false },
      write: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const int = (v: string | undefined, flag: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new RangeError(
        `--${flag} must be an integer ≥ ${min}, received "${v}"`,
      );
    }
    return n;
  };
  const steps = int(values.steps, "steps", 1);
  const warmup = int(values.warmup, "warmup", 0);
  const torchThreads = int(values["torch-threads"], "torch-threads", 1);
  const threads = int(
    values.threads ?? String(navigator.hardwareConcurrency ?? 1),
    "threads",
    1,
  );
  if (!["full", "small", "both"].includes(values.config!)) {
    throw new RangeError(
      `--config must be full, small or both, received "${values.config}"`,
    );
  }
  if (!["tfjs", "fused"].includes(values.adam!)) {
    throw new RangeError(
      `--adam must be tfjs or fused, received "${values.adam}"`,
    );
  }
  const adam = values.adam as "tfjs" | "fused";
  if (!["p2p", "stock"].includes(values.kernels!)) {
    throw new RangeError(
      `--kernels must be p2p or stock, received "${values.kernels}"`,
    );
  }
  const backend = values.backend as BackendName;
  if (!["wasm", "cpu", "webgpu", "auto"].includes(backend)) {
    throw new RangeError(
      `--backend must be wasm, cpu, webgpu or auto, received "${backend}"`,
    );
  }
  const configs = values.config === "both"
    ? [CONFIGS.full, CONFIGS.small]
    : [CONFIGS[values.config as "full" | "small"]];

  tf.enableProdMode();
  let engine: string;
  if (backend === "wasm") {
    // TODO(bench): use selectBackend once it starts threaded wasm and registers the kernels itself.
    const start = await startWasmBackend(threads);
    const k = values.kernels === "stock"
      ? registerFastWasmKernels({
        blas: "off",
        backpropInput: false,
        dataKernels: false,
      })
      : registerFastWasmKernels({ blas: values.blas, blasThreads: threads });
    engine =
      `tfjs-wasm ${tf.version.tfjs}, ${start.threads} thread(s)${
        start.note ? ` (${start.note})` : ""
      }; ` +
      (values.kernels === "stock"
        ? "stock kernels + p2p Conv2DBackpropFilter"
        : k.blas
        ? `p2p kernels on ${k.blas} (${k.blasThreads} threads): ${
          k.kernels.join(", ")
        }`
        : `p2p XNNPACK kernels: ${k.kernels.join(", ")} (no BLAS: ${k.note})`);
  } else {
    const choice = await selectBackend({ backend, log: null });
    engine = `tfjs-${choice.backend} ${tf.version.tfjs} on ${choice.adapter}`;
  }
  if (adam === "fused") {
    engine +=
      "; Adam: p2p Adam, fused where P2pAdamUpdate is registered (--adam fused)";
  }
  const loadBefore = loadAverage();
  console.error(`p2p bench: ${engine}`);
  console.error("measuring the matmul peak …");
  const peak = await matmulPeak();
  const results = new Map<string, P2pResult>();
  for (const c of configs) {
    console.error(`p2p ${c.name}: ${warmup} warm-up + ${steps} timed steps …`);
    results.set(
      c.name,
      await benchP2p(c, steps, warmup, values.profile!, adam),
    );
  }
  let torch: TorchResult | undefined;
  let torchNote = "";
  if (values["no-torch"]) torchNote = "PyTorch skipped (--no-torch)";
  else if (!(await torchAvailable())) {
    torchNote =
      `PyTorch not run: ${PYTHON} cannot import torch (apt-get install python3-torch)`;
  } else {
    console.error(`PyTorch (${torchThreads} threads) …`);
    try {
      torch = await benchTorch(configs, steps, warmup, torchThreads);
    } catch (e) {
      torchNote = `PyTorch failed: ${(e as Error).message}`;
    }
  }
  const loadAfter = loadAverage();

  const rows = [[
    "config",
    "run",
    "train step ms (min / med / max)",
    "GFLOP/s",
    "% peak",
    "G inference ms (min / med / max)",
    "GFLOP/s",
    "% peak",
    "tensors Δ (train / infer)",
  ]];
  const gflops = (gf: number, ms: number) => gf / (ms / 1000);
  for (const c of configs) {
    const r = results.get(c.name)!;
    const label = `${c.name} (${c.size}², d${c.depth}, ${c.ngf}/${c.ndf})`;
    const tg = gflops(c.trainGflop, r.train.median);
    const ig = gflops(c.inferGflop, r.infer.median);
    rows.push([
      label,
      `p2p ${backend}`,
      formatStats(r.train),
      tg.toFixed(1),
      (100 * tg / peak).toFixed(0),
      formatStats(r.infer),
      ig.toFixed(1),
      (100 * ig / peak).toFixed(0),
      `${r.trainTensorGrowth} / ${r.inferTensorGrowth}`,
    ]);
    const t = torch?.configs[c.name];
    if (torch && t) {
      const tt = summarize(t.train_ms);
      const ti = summarize(t.infer_ms);
      const ttg = gflops(c.trainGflop, tt.median);
      const tig = gflops(c.inferGflop, ti.median);
      rows.push([
        label,
        `PyTorch ${torch.torch}`,
        formatStats(tt),
        ttg.toFixed(1),
        (100 * ttg / torch.matmul_gflops).toFixed(0),
        formatStats(ti),
        tig.toFixed(1),
        (100 * tig / torch.matmul_gflops).toFixed(0),
        "",
      ]);
      rows.push([
        label,
        "**p2p ÷ PyTorch** (medians)",
        `**${(r.train.median / tt.median).toFixed(2)}×**`,
        "",
        "",
        `**${(r.infer.median / ti.median).toFixed(2)}×**`,
        "",
        "",
        "",
      ]);
    }
  }
  const when = new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC";
  const lines = [
    `Measured ${when} on ${machine()}; Deno ${Deno.version.deno}.`,
    `p2p: ${engine}; matmul peak on this backend ${
      peak.toFixed(1)
    } GFLOP/s (tf.matMul 2048²).`,
    torch
      ? `PyTorch ${torch.torch}: ${torch.threads} threads; its matmul peak ${
        torch.matmul_gflops.toFixed(1)
      } GFLOP/s (torch.mm 2048²; PyTorch rows' % peak use it).`
      : torchNote,
    `${steps} timed runs after ${warmup} warm-up; load average ${loadBefore} before, ${loadAfter} after` +
    " (other processes share the CPU when it is above ~0.3).",
    "",
    markdownTable(rows),
  ];
  let block = lines.join("\n");
  if (values.profile) {
    for (const c of configs) {
      const p = results.get(c.name)!.profile!;
      block += `\n\n### Per-kernel profile, ${c.name}\n\n` +
        profileTable("one training step", p.train, peak) + "\n" +
        profileTable("one G inference", p.infer, peak);
    }
  }
  console.log(block);
  if (values.write) console.error(`written to ${await writeResults(block)}`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
