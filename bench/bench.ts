/**
 * `deno task bench`: pix2pix training-step and inference timings on this
 * machine, side by side with PyTorch running the same networks and step.
 *
 * Configurations: `full` (U-Net depth 8, ngf 64 + 70×70 PatchGAN ndf 64,
 * 256×256, batch 1) and `small` (128×128, depth 7, ngf = ndf = 32). For each:
 * ms per training step (`@p2p/train`'s step: G forward, D on real and detached
 * fake + Adam, G loss GAN + 100·L1 through the frozen D + Adam) and per G
 * inference (training mode, as the reference tests; the output tensor
 * computed, not copied out, on both sides), min / median / max over
 * `--steps` runs (inferences: four times as many) after `--warmup` (5: the
 * first few steps of a process run slower while V8 and WebAssembly code
 * tier up and memory is first touched); GFLOP/s from the reference's cost
 * figures;
 * the share of a matmul peak measured here on the same backend; and growth of
 * `tf.memory().numTensors`. When `/usr/bin/python3` imports torch, the PyTorch
 * harness (`bench/torch_bench.py`) runs in the same invocation and the table
 * shows p2p ÷ PyTorch.
 *
 * Each p2p run is a child process (tfjs-wasm's thread count is fixed per
 * process): by default the CPU configurations with as many threads as there
 * are cores and with one (p2p's wasm and BLAS threads and PyTorch's
 * `set_num_threads` alike), and, when a WebGPU adapter exists (llvmpipe
 * included), the small configuration on WebGPU with tfjs-webgpu's stock
 * convolution-gradient kernels and with p2p's, for the speed-up. The table
 * also shows the peak of live tensor memory in one training step. The CPU rows
 * are measured in `--rounds` rounds, p2p and PyTorch alternating one
 * configuration and thread count at a time (so that both see about the same
 * machine), their samples pooled.
 *
 * ```sh
 * deno task bench [--config full|small|both|none] [--threads 2,1|none]
 *   [--backend wasm|cpu] [--kernels p2p|stock] [--blas auto|off|PATH]
 *   [--steps 5] [--warmup 5] [--rounds 3]
 *   [--webgpu full|small|both|none] [--webgpu-steps 3] [--no-torch]
 *   [--torch-device cuda] [--profile] [--write]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { patchDiscriminator, unet } from "@p2p/models";
import { createTrainer } from "@p2p/train";
import { probeGpu, selectBackend } from "@p2p/backend";
import {
  fastWasmKernels,
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
  /** Peak bytes of live tensors during one training step (`tf.profile`: weights, Adam state and the step's intermediates). */
  trainPeakBytes: number;
  /** Per-kernel profile of one training step and one inference (`--profile`). */
  profile?: { train: KernelProfile; infer: KernelProfile };
}

/** What the PyTorch harness printed. */
export interface TorchResult {
  /** torch version. */
  torch: string;
  /** Threads it ran with. */
  threads: number;
  /** `cpu`, or the CUDA device's name. */
  device?: string;
  /** Its own fp32 matmul peak (2048²), GFLOP/s. */
  matmul_gflops: number;
  /** Timings by configuration name. */
  configs: Record<string, { train_ms: number[]; infer_ms: number[] }>;
}

/** The Python that runs bench/torch_bench.py: `P2P_PYTHON`, else Debian's. */
const PYTHON = (() => {
  try {
    return Deno.env.get("P2P_PYTHON") || "/usr/bin/python3";
  } catch {
    return "/usr/bin/python3";
  }
})();

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

/**
 * G inferences timed per training step timed, here and (passed as
 * `--infer-steps`) in `torch_bench.py` alike: an inference is ~1/8 of a
 * step, and its median needs more samples to hold still on a machine whose
 * speed drifts.
 */
export const INFER_RUNS_PER_STEP = 4;

/** Times training steps and G inferences of one configuration on the current backend. */
export async function benchP2p(
  config: BenchConfig,
  steps: number,
  warmup: number,
  profile: boolean,
): Promise<P2pResult> {
  const g = unet({ depth: config.depth, ngf: config.ngf, size: config.size });
  const d = patchDiscriminator({
    layers: 3,
    ndf: config.ndf,
    size: config.size,
  });
  // p2p's Adam runs the fused P2pAdamUpdate kernel wherever it is registered.
  const trainer = createTrainer(g, d);
  const s = config.size;
  const x = tf.randomUniform([1, s, s, 3], -1, 1, "float32", 1) as tf.Tensor4D;
  const y = tf.randomUniform([1, s, s, 3], -1, 1, "float32", 2) as tf.Tensor4D;
  const step = () => trainer.step(x, y);
  // The output is ready when apply returns on the CPU backends (their
  // kernels run synchronously); WebGPU's is read back, tfjs's only way to
  // wait for the GPU. PyTorch's loop does not copy its output out either.
  const gpu = tf.getBackend() === "webgpu";
  const infer = async () => {
    const out = tf.tidy(() => g.apply(x, { training: true }) as tf.Tensor);
    if (gpu) await sync(out);
    out.dispose();
  };
  const time = async (
    f: () => Promise<unknown>,
    runs: number,
  ): Promise<[Stats, number]> => {
    for (let i = 0; i < warmup; i++) await f();
    const before = tf.memory().numTensors;
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await f();
      ms.push(performance.now() - t0);
    }
    return [summarize(ms), tf.memory().numTensors - before];
  };
  const [train, trainTensorGrowth] = await time(step, steps);
  const [inferStats, inferTensorGrowth] = await time(
    infer,
    INFER_RUNS_PER_STEP * steps,
  );
  const memory = await tf.profile(async () => {
    await step();
  });
  const result: P2pResult = {
    train,
    infer: inferStats,
    trainTensorGrowth,
    inferTensorGrowth,
    trainPeakBytes: memory.peakBytes,
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
  device: "cpu" | "cuda" = "cpu",
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
      "--infer-steps",
      String(INFER_RUNS_PER_STEP * steps),
      "--threads",
      n,
      "--device",
      device,
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

/** One p2p run of the bench: a backend, thread count and kernel set, in its own process. */
export interface ModeSpec {
  /** tfjs backend. */
  backend: "wasm" | "cpu" | "webgpu";
  /** CPU threads (wasm and BLAS). */
  threads: number;
  /** p2p's kernels, or the backend's stock ones. */
  kernels: "p2p" | "stock";
  /** Native BLAS choice for wasm. */
  blas: string;
  /** Configurations to run. */
  configs: ("full" | "small")[];
  /** Timed runs. */
  steps: number;
  /** Warm-up runs. */
  warmup: number;
  /** Per-kernel profile too. */
  profile: boolean;
}

/** What one {@linkcode ModeSpec} measured. */
export interface ModeResult {
  /** The run. */
  spec: ModeSpec;
  /** The backend line: device, threads, kernels. */
  engine: string;
  /** Matmul peak of this backend, GFLOP/s. */
  peak: number;
  /** Timings by configuration name. */
  results: Record<string, P2pResult>;
}

/** Starts the backend of `spec` in this process and times its configurations. */
export async function runMode(spec: ModeSpec): Promise<ModeResult> {
  tf.enableProdMode();
  let engine: string;
  if (spec.backend === "wasm" && spec.kernels === "stock") {
    const start = await startWasmBackend(spec.threads);
    registerFastWasmKernels({
      blas: "off",
      backpropInput: false,
      dataKernels: false,
    });
    engine = `tfjs-wasm ${tf.version.tfjs}, ${start.threads} thread(s); ` +
      "stock kernels + p2p Conv2DBackpropFilter";
  } else {
    const choice = await selectBackend({
      backend: spec.backend,
      threads: spec.threads,
      blas: spec.blas,
      fastKernels: spec.kernels === "p2p",
      log: null,
    });
    engine = `tfjs-${choice.backend} ${tf.version.tfjs} on ${choice.adapter}`;
    const k = fastWasmKernels();
    if (choice.backend === "wasm" && k) {
      engine += `; p2p kernels: ${k.kernels.join(", ")}`;
    }
  }
  console.error(`p2p bench: ${engine}`);
  console.error("measuring the matmul peak …");
  // 2048³ takes seconds a call on a software GPU: 1024³ there.
  const peak = await matmulPeak(spec.backend === "webgpu" ? 1024 : 2048);
  const results: Record<string, P2pResult> = {};
  for (const name of spec.configs) {
    console.error(
      `p2p ${spec.backend} ${spec.kernels} kernels, ${spec.threads} thread(s), ${name}: ${spec.warmup} warm-up + ${spec.steps} timed steps …`,
    );
    results[name] = await benchP2p(
      CONFIGS[name],
      spec.steps,
      spec.warmup,
      spec.profile,
    );
  }
  return { spec, engine, peak, results };
}

/** Runs {@linkcode runMode} in a child Deno process (wasm threads are fixed per process). */
export async function runModeInChild(spec: ModeSpec): Promise<ModeResult> {
  const n = String(spec.threads);
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--child",
      JSON.stringify(spec),
    ],
    env: { OPENBLAS_NUM_THREADS: n, OMP_NUM_THREADS: n },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const out = new TextDecoder().decode(r.stdout).trim();
  if (!r.success) {
    throw new Error(
      `bench child (${spec.backend}, ${spec.kernels} kernels, ${spec.threads} thread(s)) failed with exit ${r.code}`,
    );
  }
  return JSON.parse(out.split("\n").pop()!) as ModeResult;
}

const USAGE = `usage: deno task bench [options]
  --config full|small|both|none   CPU configurations (default both)
  --threads LIST|none             CPU thread counts, one p2p and one PyTorch run each (default: cores,1)
  --backend wasm|cpu              CPU backend (default wasm)
  --kernels p2p|stock             p2p's wasm kernels, or tfjs-wasm's own plus the missing filter gradient
  --blas auto|off|PATH            native BLAS for wasm convolutions (default auto)
  --steps N                       timed runs after warm-up, each round (default 5)
  --rounds N                      CPU rounds, p2p and PyTorch alternating by configuration and thread count, samples pooled (default 3)
  --warmup N                      warm-up runs, p2p and PyTorch alike (default 5)
  --webgpu full|small|both|none   WebGPU rows, stock and p2p kernels, when an adapter exists (default small)
  --webgpu-steps N                timed WebGPU runs (default 3, warm-up 1)
  --no-torch                      skip the PyTorch side
  --torch-device cpu|cuda         device of PyTorch's WebGPU-side rows (default: none; cuda when asked)
  --profile                       per-kernel profile of one step and one inference
  --write                         write the table to bench/RESULTS.md`;

type Row = string[];

function resultRow(
  c: BenchConfig,
  run: string,
  r: P2pResult,
  peak: number,
): Row {
  const tg = c.trainGflop / (r.train.median / 1000);
  const ig = c.inferGflop / (r.infer.median / 1000);
  return [
    configLabel(c),
    run,
    formatStats(r.train),
    tg.toFixed(1),
    (100 * tg / peak).toFixed(0),
    formatStats(r.infer),
    ig.toFixed(1),
    (100 * ig / peak).toFixed(0),
    `${r.trainTensorGrowth} / ${r.inferTensorGrowth}`,
    (r.trainPeakBytes / 2 ** 20).toFixed(0),
  ];
}

function torchRows(
  c: BenchConfig,
  t: TorchResult,
  p2p: P2pResult,
  run: string,
): Row[] {
  const cfg = t.configs[c.name];
  if (!cfg) return [];
  const tt = summarize(cfg.train_ms);
  const ti = summarize(cfg.infer_ms);
  const tg = c.trainGflop / (tt.median / 1000);
  const ig = c.inferGflop / (ti.median / 1000);
  return [
    [
      configLabel(c),
      run,
      formatStats(tt),
      tg.toFixed(1),
      (100 * tg / t.matmul_gflops).toFixed(0),
      formatStats(ti),
      ig.toFixed(1),
      (100 * ig / t.matmul_gflops).toFixed(0),
      "",
      "",
    ],
    [
      configLabel(c),
      `**p2p ÷ ${run}** (medians)`,
      `**${(p2p.train.median / tt.median).toFixed(2)}×**`,
      "",
      "",
      `**${(p2p.infer.median / ti.median).toFixed(2)}×**`,
      "",
      "",
      "",
      "",
    ],
  ];
}

function configLabel(c: BenchConfig): string {
  return `${c.name} (${c.size}², d${c.depth}, ${c.ngf}/${c.ndf})`;
}

function threadWord(n: number): string {
  return `${n} thread${n === 1 ? "" : "s"}`;
}

/**
 * One {@linkcode ModeResult} from runs of the same mode (each a child process,
 * maybe of different configurations): each configuration's timings pooled
 * (statistics over all samples), tensor growth and peak memory the largest
 * seen, the profile and backend line of the first run that has them, the
 * matmul peak the highest measured.
 */
export function mergeModeResults(runs: ModeResult[]): ModeResult {
  if (runs.length === 0) throw new RangeError("mergeModeResults: no runs");
  const results: Record<string, P2pResult> = {};
  for (const run of runs) {
    for (const [name, r] of Object.entries(run.results)) {
      const was = results[name];
      results[name] = was === undefined ? r : {
        train: summarize([...was.train.samples, ...r.train.samples]),
        infer: summarize([...was.infer.samples, ...r.infer.samples]),
        trainTensorGrowth: Math.max(
          was.trainTensorGrowth,
          r.trainTensorGrowth,
        ),
        inferTensorGrowth: Math.max(
          was.inferTensorGrowth,
          r.inferTensorGrowth,
        ),
        trainPeakBytes: Math.max(was.trainPeakBytes, r.trainPeakBytes),
        profile: was.profile ?? r.profile,
      };
    }
  }
  return {
    spec: {
      ...runs[0].spec,
      configs: Object.keys(results) as ModeSpec["configs"],
    },
    engine: runs[0].engine,
    peak: Math.max(...runs.map((r) => r.peak)),
    results,
  };
}

/** One {@linkcode TorchResult} from runs at one thread count: timings pooled by configuration, the highest matmul peak. */
export function mergeTorchResults(runs: TorchResult[]): TorchResult {
  if (runs.length === 0) throw new RangeError("mergeTorchResults: no runs");
  const configs: TorchResult["configs"] = {};
  for (const run of runs) {
    for (const [name, c] of Object.entries(run.configs)) {
      const was = configs[name] ?? { train_ms: [], infer_ms: [] };
      configs[name] = {
        train_ms: [...was.train_ms, ...c.train_ms],
        infer_ms: [...was.infer_ms, ...c.infer_ms],
      };
    }
  }
  return {
    ...runs[0],
    matmul_gflops: Math.max(...runs.map((r) => r.matmul_gflops)),
    configs,
  };
}

/** What {@linkcode cpuRounds} runs. */
interface CpuRoundsPlan {
  /** Rounds. */
  rounds: number;
  /** Thread counts. */
  threadList: number[];
  /** CPU configurations. */
  configs: ("full" | "small")[];
  /** The p2p children's backend, kernels, BLAS, steps and warm-up. */
  spec: Pick<ModeSpec, "backend" | "kernels" | "blas" | "steps" | "warmup">;
  /** Profile in the first round. */
  profile: boolean;
  /** Run PyTorch too. */
  withTorch: boolean;
}

/**
 * The CPU rows: `rounds` rounds, each a p2p child then a PyTorch run per
 * thread count and configuration (so that both see about the same machine:
 * its speed drifts by up to ~20 % over minutes), samples pooled by thread
 * count; failures of PyTorch runs in `note`.
 */
async function cpuRounds(
  plan: CpuRoundsPlan,
): Promise<
  { runs: ModeResult[]; torch: Map<number, TorchResult>; note: string }
> {
  const parts = new Map<number, { p2p: ModeResult[]; torch: TorchResult[] }>(
    plan.threadList.map((t) => [t, { p2p: [], torch: [] }]),
  );
  let note = "";
  for (let round = 0; round < plan.rounds && plan.configs.length; round++) {
    for (const threads of plan.threadList) {
      const part = parts.get(threads)!;
      for (const name of plan.configs) {
        part.p2p.push(
          await runModeInChild({
            ...plan.spec,
            threads,
            configs: [name],
            profile: plan.profile && round === 0,
          }),
        );
        if (!plan.withTorch) continue;
        console.error(`PyTorch (${threadWord(threads)}, ${name}) …`);
        try {
          part.torch.push(
            await benchTorch(
              [CONFIGS[name]],
              plan.spec.steps,
              plan.spec.warmup,
              threads,
            ),
          );
        } catch (e) {
          note += `PyTorch (${threadWord(threads)}, ${name}) failed: ${
            (e as Error).message
          } `;
        }
      }
    }
  }
  const runs: ModeResult[] = [];
  const torch = new Map<number, TorchResult>();
  for (const [threads, part] of parts) {
    if (part.p2p.length) runs.push(mergeModeResults(part.p2p));
    if (part.torch.length) torch.set(threads, mergeTorchResults(part.torch));
  }
  return { runs, torch, note };
}

type Values = ReturnType<typeof parseBenchArgs>["values"];

function parseBenchArgs(args: string[]) {
  return parseArgs({
    args,
    options: {
      backend: { type: "string", default: "wasm" },
      config: { type: "string", default: "both" },
      steps: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: "5" },
      threads: { type: "string" },
      blas: { type: "string", default: "auto" },
      kernels: { type: "string", default: "p2p" },
      webgpu: { type: "string", default: "small" },
      "webgpu-steps": { type: "string", default: "3" },
      "no-torch": { type: "boolean", default: false },
      "torch-device": { type: "string" },
      profile: { type: "boolean", default: false },
      write: { type: "boolean", default: false },
      child: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
}

/** The command line, checked. */
interface BenchPlan {
  steps: number;
  warmup: number;
  rounds: number;
  webgpuSteps: number;
  cores: number;
  threadList: number[];
  cpuConfigs: ("full" | "small")[];
  gpuConfigs: ("full" | "small")[];
  kernels: "p2p" | "stock";
  backend: "wasm" | "cpu";
  blas: string;
  torchDevice?: "cpu" | "cuda";
  profile: boolean;
}

function int(v: string | undefined, flag: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(
      `--${flag} must be an integer ≥ ${min}, received "${v}"`,
    );
  }
  return n;
}

function oneOf<T extends string>(
  v: string | undefined,
  flag: string,
  choices: readonly T[],
): T {
  if (!choices.includes(v as T)) {
    throw new RangeError(
      `--${flag} must be one of ${choices.join(", ")}, received "${v}"`,
    );
  }
  return v as T;
}

/** The configurations a `--config` / `--webgpu` value names. */
function configsOf(v: string | undefined, flag: string): ("full" | "small")[] {
  const c = oneOf(v, flag, ["full", "small", "both", "none"]);
  return c === "both" ? ["full", "small"] : c === "none" ? [] : [c];
}

function benchPlan(values: Values): BenchPlan {
  const cores = navigator.hardwareConcurrency ?? 1;
  return {
    steps: int(values.steps, "steps", 1),
    warmup: int(values.warmup, "warmup", 0),
    rounds: int(values.rounds, "rounds", 1),
    webgpuSteps: int(values["webgpu-steps"], "webgpu-steps", 1),
    cores,
    threadList: values.threads === "none"
      ? []
      : (values.threads ?? (cores > 1 ? `${cores},1` : "1")).split(",").map(
        (t) => int(t.trim(), "threads", 1),
      ),
    cpuConfigs: configsOf(values.config, "config"),
    gpuConfigs: configsOf(values.webgpu, "webgpu"),
    kernels: oneOf(values.kernels, "kernels", ["p2p", "stock"] as const),
    backend: oneOf(values.backend, "backend", ["wasm", "cpu"] as const),
    blas: values.blas!,
    torchDevice: values["torch-device"] === undefined
      ? undefined
      : oneOf(values["torch-device"], "torch-device", ["cpu", "cuda"] as const),
    profile: values.profile!,
  };
}

/** The WebGPU rows' runs (stock kernels, then p2p's), or why there are none. */
async function gpuModes(
  plan: BenchPlan,
): Promise<{ runs: ModeResult[]; note: string }> {
  const runs: ModeResult[] = [];
  if (!plan.gpuConfigs.length) return { runs, note: "" };
  const probe = await probeGpu();
  if (!probe.adapter) {
    return { runs, note: `WebGPU rows skipped: ${probe.description}` };
  }
  for (const k of ["stock", "p2p"] as const) {
    runs.push(
      await runModeInChild({
        backend: "webgpu",
        threads: plan.cores,
        kernels: k,
        blas: "off",
        configs: plan.gpuConfigs,
        steps: plan.webgpuSteps,
        warmup: 1,
        profile: plan.profile,
      }),
    );
  }
  return { runs, note: "" };
}

/** Everything the report shows. */
interface BenchRuns {
  cpuRuns: ModeResult[];
  gpuRuns: ModeResult[];
  torch: Map<number, TorchResult>;
  torchCuda?: TorchResult;
  notes: string[];
  loadBefore: string;
  loadAfter: string;
}

/** The table's rows: CPU configurations, then WebGPU ones. */
function tableRows(plan: BenchPlan, runs: BenchRuns): Row[] {
  const rows: Row[] = [[
    "config",
    "run",
    "train step ms (min / med / max)",
    "GFLOP/s",
    "% peak",
    "G inference ms (min / med / max)",
    "GFLOP/s",
    "% peak",
    "tensors Δ (train / infer)",
    "step peak MiB",
  ]];
  for (const name of plan.cpuConfigs) {
    const c = CONFIGS[name];
    for (const run of runs.cpuRuns) {
      const r = run.results[name];
      const t = run.spec.threads;
      const stock = run.spec.kernels === "stock" ? " (stock kernels)" : "";
      rows.push(
        resultRow(
          c,
          `p2p ${run.spec.backend}${stock}, ${threadWord(t)}`,
          r,
          run.peak,
        ),
      );
      const tr = runs.torch.get(t);
      if (tr) {
        rows.push(
          ...torchRows(c, tr, r, `PyTorch ${tr.torch}, ${threadWord(t)}`),
        );
      }
    }
  }
  const [stock, p2p] = runs.gpuRuns;
  for (const name of stock && p2p ? plan.gpuConfigs : []) {
    const c = CONFIGS[name];
    const s = stock.results[name];
    const q = p2p.results[name];
    rows.push(resultRow(c, "p2p webgpu, stock tfjs kernels", s, stock.peak));
    rows.push(resultRow(c, "p2p webgpu, p2p kernels", q, p2p.peak));
    rows.push([
      configLabel(c),
      "**stock ÷ p2p kernels** (speed-up, medians)",
      `**${(s.train.median / q.train.median).toFixed(2)}×**`,
      "",
      "",
      `**${(s.infer.median / q.infer.median).toFixed(2)}×**`,
      "",
      "",
      "",
      "",
    ]);
    const cuda = runs.torchCuda;
    if (cuda) {
      rows.push(
        ...torchRows(
          c,
          cuda,
          q,
          `PyTorch ${cuda.torch} ${cuda.device ?? "cuda"}`,
        ),
      );
    }
  }
  return rows;
}

/** The report: what ran where, the table, and the profiles when asked. */
function report(plan: BenchPlan, runs: BenchRuns): string {
  const when = new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC";
  const all = [...runs.cpuRuns, ...runs.gpuRuns];
  const torchLines = [
    ...runs.torch.values(),
    ...(runs.torchCuda ? [runs.torchCuda] : []),
  ].map((t) =>
    `- PyTorch ${t.torch} (${t.device ?? "cpu"}): ${
      threadWord(t.threads)
    }; its matmul peak ${
      t.matmul_gflops.toFixed(1)
    } GFLOP/s (torch.mm 2048²; PyTorch rows' % peak use it).`
  );
  const lines = [
    `Measured ${when} on ${machine()}; Deno ${Deno.version.deno}.`,
    ...all.map((r) =>
      `- p2p ${r.spec.backend}, ${r.spec.kernels} kernels, ${
        threadWord(r.spec.threads)
      }: ${r.engine}; matmul peak ${r.peak.toFixed(1)} GFLOP/s (tf.matMul ${
        r.spec.backend === "webgpu" ? 1024 : 2048
      }²).`
    ),
    ...torchLines,
    ...runs.notes.filter((n) => n.trim()).map((n) => `- ${n.trim()}`),
    `- ${plan.rounds} rounds of ${plan.steps} timed runs after ${plan.warmup} warm-up, p2p and PyTorch alternating by configuration and thread count (WebGPU: ${plan.webgpuSteps} after 1); load average ${runs.loadBefore} before, ${runs.loadAfter} after` +
    " (other processes share the CPU when it is above ~0.3). Step peak MiB: live tensors at the peak of one training step (weights, Adam state, intermediates; `tf.profile`).",
    "",
    markdownTable(tableRows(plan, runs)),
  ];
  let block = lines.join("\n");
  if (!plan.profile) return block;
  for (const run of all) {
    for (const [name, r] of Object.entries(run.results)) {
      const p = r.profile!;
      const what = `${name}, ${run.spec.backend} ${run.spec.kernels} kernels, ${
        threadWord(run.spec.threads)
      }`;
      block += `\n\n### Per-kernel profile, ${what}\n\n` +
        profileTable("one training step", p.train, run.peak) + "\n" +
        profileTable("one G inference", p.infer, run.peak);
    }
  }
  return block;
}

async function main(): Promise<void> {
  const { values } = parseBenchArgs(Deno.args);
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.child) {
    console.log(JSON.stringify(await runMode(JSON.parse(values.child))));
    return;
  }
  const plan = benchPlan(values);
  const loadBefore = loadAverage();
  const notes: string[] = [];
  const withTorch = !values["no-torch"] && await torchAvailable();
  if (values["no-torch"]) notes.push("PyTorch skipped (--no-torch)");
  else if (!withTorch) {
    notes.push(
      `PyTorch not run: ${PYTHON} cannot import torch (apt-get install python3-torch)`,
    );
  }
  // p2p and PyTorch alternate, one configuration and thread count at a time,
  // round after round, so that both see about the same machine: its speed
  // drifts by up to ~20 % over minutes (other virtual machines on the host).
  const cpu = await cpuRounds({
    rounds: plan.rounds,
    threadList: plan.threadList,
    configs: plan.cpuConfigs,
    spec: {
      backend: plan.backend,
      kernels: plan.kernels,
      blas: plan.blas,
      steps: plan.steps,
      warmup: plan.warmup,
    },
    profile: plan.profile,
    withTorch,
  });
  notes.push(cpu.note);
  const gpu = await gpuModes(plan);
  notes.push(gpu.note);
  let torchCuda: TorchResult | undefined;
  if (withTorch && plan.torchDevice === "cuda" && plan.gpuConfigs.length) {
    console.error("PyTorch CUDA …");
    try {
      torchCuda = await benchTorch(
        plan.gpuConfigs.map((n) => CONFIGS[n]),
        plan.steps,
        plan.warmup,
        plan.cores,
        "cuda",
      );
    } catch (e) {
      notes.push(`PyTorch CUDA failed: ${(e as Error).message}`);
    }
  }
  const block = report(plan, {
    cpuRuns: cpu.runs,
    gpuRuns: gpu.runs,
    torch: cpu.torch,
    torchCuda,
    notes,
    loadBefore,
    loadAfter: loadAverage(),
  });
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
