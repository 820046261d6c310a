/**
 * Chooses the tfjs backend: hardware WebGPU, else wasm, else cpu; or the one
 * asked for, failing loudly when it cannot start.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import { loadBlas } from "./kernels/blas.ts";
import { registerFastWasmKernels, startWasmBackend } from "./wasm_kernels.ts";
import {
  registerWebGpuKernels,
  unregisterWebGpuKernels,
} from "./webgpu_kernels.ts";

// The stock WebGPU factory (registered on import, at the highest priority) would make
// tfjs pick any adapter, llvmpipe included, when nothing is selected: p2p registers
// its own factory in selectBackend instead.
if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");

/** Backends p2p can run on; `auto` picks the fastest that starts. */
export type BackendName = "auto" | "webgpu" | "wasm" | "cpu";

/** Valid values of {@linkcode BackendName}. */
export const BACKEND_NAMES: readonly BackendName[] = [
  "auto",
  "webgpu",
  "wasm",
  "cpu",
];

/** Options of {@linkcode selectBackend}. */
export interface SelectBackendOptions {
  /** Backend to use. @default "auto" */
  backend?: BackendName;
  /** Let `auto` use a software WebGPU adapter (e.g. llvmpipe). @default false */
  allowSoftwareGpu?: boolean;
  /**
   * Register p2p's kernels: on wasm the weight gradient tfjs-wasm lacks and
   * faster convolutions (`false` keeps the stock kernels; training then
   * fails); on WebGPU a tiled `Conv2DBackpropFilter` (`false` keeps
   * tfjs-webgpu's own, for before/after comparisons).
   * @default true
   */
  fastKernels?: boolean;
  /**
   * Threads for everything p2p computes with on the CPU: tfjs-wasm's own
   * kernels (its threaded SIMD build when above 1) and the native BLAS; when
   * a BLAS loads and twice the threads exceed the logical cores, the BLAS
   * alone (tfjs-wasm's kernels then stay on 1 thread unless
   * {@linkcode SelectBackendOptions.wasmThreads} is given: the two pools'
   * workers competed for the same cores, which made 2 threads slower than 1
   * on 2 cores). Takes effect on wasm only the first time it starts in a
   * process.
   * @default the OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS environment
   * variable when set; else wasm threads from {@linkcode SelectBackendOptions.wasmThreads}
   * and BLAS threads = logical cores
   */
  threads?: number;
  /**
   * Threads of tfjs-wasm's own kernels alone (without a native BLAS,
   * overridden by {@linkcode SelectBackendOptions.threads} or the thread
   * environment variables when those are set; with one, as given).
   * @default the P2P_WASM_THREADS environment variable, else 1
   */
  wasmThreads?: number;
  /**
   * Native BLAS for the wasm kernels: `auto` (OpenBLAS when installed), `off`,
   * or a library path.
   * @default the P2P_BLAS environment variable, else "auto"
   */
  blas?: string;
  /** Where the choice is printed; `null` prints nothing. @default console.error */
  log?: ((line: string) => void) | null;
}

/** What {@linkcode selectBackend} chose. */
export interface BackendChoice {
  /** The tfjs backend now active. */
  backend: "webgpu" | "wasm" | "cpu";
  /** Human-readable description of the device (adapter, or CPU and threads). */
  adapter: string;
  /** Why this backend was chosen. */
  reason: string;
}

/** What a WebGPU probe found. */
export interface GpuProbe {
  /** The adapter, when one was returned. */
  adapter: GPUAdapter | null;
  /** `vendor architecture device description`, or why there is none. */
  description: string;
  /** Whether the adapter is a software fallback (llvmpipe, SwiftShader). */
  software: boolean;
}

/**
 * Without `XDG_RUNTIME_DIR` (a server, CI, a container), Vulkan drivers that
 * try a Wayland display print "error: XDG_RUNTIME_DIR is invalid or not set"
 * while p2p only probes for an adapter. Point it at a private, empty folder
 * (mode 0700, owned by this user) so the probe stays quiet; an existing
 * setting, or a folder that is not ours, is left alone.
 */
function quietWaylandProbe(): void {
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR") || Deno.env.get("WAYLAND_DISPLAY")) {
      return;
    }
    const uid = Deno.uid();
    if (uid === null) return;
    const dir = `${Deno.env.get("TMPDIR") || "/tmp"}/p2p-runtime-${uid}`;
    try {
      Deno.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) return;
    }
    const info = Deno.lstatSync(dir);
    if (!info.isDirectory || info.uid !== uid || (info.mode! & 0o077) !== 0) {
      return;
    }
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // no --allow-env / --allow-write: the probe may print the driver's line
  }
}

/** Asks `navigator.gpu` for an adapter, without throwing. */
export async function probeGpu(): Promise<GpuProbe> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    return {
      adapter: null,
      description: "navigator.gpu is missing",
      software: false,
    };
  }
  quietWaylandProbe();
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return {
      adapter: null,
      description: `requestAdapter() threw: ${(e as Error).message}`,
      software: false,
    };
  }
  if (!adapter) {
    return {
      adapter: null,
      description: "requestAdapter() returned null",
      software: false,
    };
  }
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const a = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const software = Boolean(info?.isFallbackAdapter ?? a.isFallbackAdapter) ||
    /llvmpipe|swiftshader|lavapipe|software/i.test(
      `${info?.description} ${info?.device}`,
    );
  const description =
    [info?.vendor, info?.architecture, info?.device, info?.description]
      .filter((s) => s && String(s).length > 0).join(" ").trim() ||
    "unnamed adapter";
  return { adapter, description, software };
}

async function startWebGpu(adapter: GPUAdapter): Promise<void> {
  // Our own factory: the stock one passes 'bgra8unorm-storage' as an array, which some
  // WebGPU implementations reject, and it cannot be told which adapter to use.
  const features: GPUFeatureName[] = [];
  for (
    const f of ["timestamp-query", "bgra8unorm-storage"] as GPUFeatureName[]
  ) {
    if (adapter.features.has(f)) features.push(f);
  }
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
  if (tf.findBackend("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend(
    "webgpu",
    () => new WebGPUBackend(device, adapter.info),
    3,
  );
  if (!(await tf.setBackend("webgpu"))) {
    throw new Error("tf.setBackend('webgpu') returned false");
  }
  await tf.ready();
}

/** Hooks run after a backend starts (e.g. faster kernels for wasm). */
const afterStart: Map<string, Array<() => void | Promise<void>>> = new Map();

/** Registers `hook` to run each time {@linkcode selectBackend} starts `backend`. */
export function onBackendStart(
  backend: "webgpu" | "wasm" | "cpu",
  hook: () => void | Promise<void>,
): void {
  const list = afterStart.get(backend) ?? [];
  list.push(hook);
  afterStart.set(backend, list);
}

async function startCpuBackend(
  name: "wasm" | "cpu",
  fastKernels: boolean,
  blas: string,
  wasmThreads: number,
  blasThreads: number | undefined,
): Promise<void> {
  let ok = false;
  try {
    if (name === "wasm") {
      const started = await startWasmBackend(wasmThreads);
      threadsNote = `${started.threads} wasm thread${
        started.threads > 1 ? "s" : ""
      }${started.note && wasmThreads > 1 ? ` (${started.note})` : ""}`;
      ok = true;
    } else ok = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    throw new Error(
      `backend "${name}" failed to start: ${(e as Error).message}`,
    );
  }
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`backend "${name}" failed to start`);
  }
  if (name === "wasm") registerWasmKernels(fastKernels, blas, blasThreads);
}

/**
 * Selects and initialises the tfjs backend, prints the choice, and returns it.
 * `auto` takes a hardware WebGPU adapter, else wasm, else cpu; a software
 * adapter only with `allowSoftwareGpu`. An explicit backend that cannot start
 * throws instead of falling back.
 *
 * @example
 * ```ts
 * import { selectBackend } from "@p2p/backend";
 * const choice = await selectBackend({ backend: "cpu", log: null });
 * console.log(choice.backend); // "cpu"
 * ```
 */
export async function selectBackend(
  options: SelectBackendOptions = {},
): Promise<BackendChoice> {
  const wanted = options.backend ?? "auto";
  if (!BACKEND_NAMES.includes(wanted)) {
    throw new RangeError(
      `backend must be one of ${
        BACKEND_NAMES.join(", ")
      }, received "${wanted}"`,
    );
  }
  tf.enableProdMode();
  const blas = blasChoice(options);
  const plan = wasmThreadPlan(options, blas);
  const threads = plan.threads;
  threadSourceNote = plan.note;
  const log = options.log === undefined
    ? (s: string) => console.error(s)
    : options.log;
  let choice: BackendChoice | undefined;
  if (wanted === "webgpu" || wanted === "auto") {
    const probe = await probeGpu();
    const usable = probe.adapter &&
      (!probe.software || wanted === "webgpu" || options.allowSoftwareGpu);
    if (usable) {
      try {
        await startWebGpu(probe.adapter!);
        const fast = options.fastKernels ?? true;
        if (fast) {
          registerWebGpuKernels({ registerProducts: probe.software });
        } else unregisterWebGpuKernels();
        choice = {
          backend: "webgpu",
          adapter: probe.description + (probe.software ? " (software)" : "") +
            (fast ? " + p2p kernels" : " (stock kernels)"),
          reason: wanted === "webgpu"
            ? "asked for"
            : "hardware WebGPU adapter found",
        };
      } catch (e) {
        if (wanted === "webgpu") {
          throw new Error(
            `--backend webgpu: could not start on ${probe.description}: ${
              (e as Error).message
            }`,
          );
        }
      }
    } else if (wanted === "webgpu") {
      throw new Error(
        `--backend webgpu: no WebGPU adapter (${probe.description})`,
      );
    }
    if (!choice && wanted === "auto") {
      const why = probe.adapter
        ? `only a software WebGPU adapter (${probe.description}); allowSoftwareGpu to use it`
        : `no WebGPU adapter: ${probe.description}`;
      for (const name of ["wasm", "cpu"] as const) {
        try {
          await startCpuBackend(
            name,
            options.fastKernels ?? true,
            blas,
            threads,
            plan.blasThreads,
          );
          choice = {
            backend: name,
            adapter: cpuDescription(name),
            reason: why,
          };
          break;
        } catch (e) {
          log?.(`p2p: ${name} backend unavailable (${(e as Error).message})`);
        }
      }
    }
  } else {
    await startCpuBackend(
      wanted,
      options.fastKernels ?? true,
      blas,
      threads,
      plan.blasThreads,
    );
    choice = {
      backend: wanted,
      adapter: cpuDescription(wanted),
      reason: "asked for",
    };
  }
  if (!choice) {
    throw new Error("no tfjs backend could start (tried webgpu, wasm, cpu)");
  }
  for (const hook of afterStart.get(choice.backend) ?? []) await hook();
  log?.(
    `p2p: backend ${choice.backend} on ${choice.adapter} (${choice.reason})`,
  );
  return choice;
}

function cpuDescription(name: "wasm" | "cpu"): string {
  const cores =
    (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1;
  return name === "wasm"
    ? `CPU, ${cores} cores, tfjs-wasm, ${threadsNote}${threadSourceNote}${fastKernelsNote}`
    : `CPU, ${cores} cores, tfjs-cpu`;
}

let fastKernelsNote = "";
let threadsNote = "";
let threadSourceNote = "";

/** Thread environment variables honoured, in order of precedence. */
const THREAD_ENV = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"] as const;

/**
 * The thread count asked for (the `threads` option, else the first of
 * {@linkcode THREAD_ENV} that is set) and where it came from, or `undefined`.
 */
function threadCount(
  options: SelectBackendOptions,
): { threads: number; source: string } | undefined {
  let raw: unknown = options.threads;
  let source = "threads";
  if (raw === undefined) {
    for (const name of THREAD_ENV) {
      try {
        raw = Deno.env.get(name) || undefined;
      } catch {
        raw = undefined; // no env permission
      }
      if (raw !== undefined) {
        source = name;
        break;
      }
    }
  }
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `${source} must be a positive integer, received ${JSON.stringify(raw)}`,
    );
  }
  return {
    threads: n,
    source: source === "threads" ? "threads" : `${source}=${n}`,
  };
}

/**
 * tfjs-wasm's own threads, and the note the backend line prints about where
 * they came from. When a BLAS loads and two pools of the asked threads would
 * not fit on the cores, the BLAS alone gets them (tfjs-wasm stays on 1).
 * `blasThreads`: the count asked for, if any (the BLAS's own default else).
 */
function wasmThreadPlan(
  options: SelectBackendOptions,
  blas: string,
): { threads: number; blasThreads: number | undefined; note: string } {
  const count = threadCount(options);
  const explicitWasm = wasmThreads(options);
  const cores =
    (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1;
  const blasTakesThreads = count !== undefined && count.threads > 1 &&
    2 * count.threads > cores && explicitWasm === undefined &&
    (options.fastKernels ?? true) && blasLoads(blas);
  return {
    threads: blasTakesThreads ? 1 : count?.threads ?? explicitWasm ?? 1,
    blasThreads: count?.threads,
    note: count
      ? ` (${count.source}${
        blasTakesThreads ? `: ${count.threads} threads to the BLAS` : ""
      })`
      : "",
  };
}

/** Whether the native BLAS of `choice` (`auto`, `off` or a path) loads here. */
function blasLoads(choice: string): boolean {
  if (choice === "off") return false;
  const blas = loadBlas(choice === "auto" ? {} : { path: choice });
  blas?.close();
  return blas !== undefined;
}

/** The wasm threads asked for by name (option or P2P_WASM_THREADS), if any. */
function wasmThreads(options: SelectBackendOptions): number | undefined {
  let raw: unknown = options.wasmThreads;
  let source = "wasmThreads";
  if (raw === undefined) {
    try {
      raw = Deno.env.get("P2P_WASM_THREADS") || undefined;
      source = "P2P_WASM_THREADS";
    } catch {
      // no env permission
    }
  }
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `${source} must be a positive integer, received ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

function blasChoice(options: SelectBackendOptions): string {
  if (options.blas) return options.blas;
  try {
    return Deno.env.get("P2P_BLAS") || "auto";
  } catch {
    return "auto"; // no env permission
  }
}

function registerWasmKernels(
  enabled: boolean,
  blas: string,
  blasThreads: number | undefined,
): void {
  if (!enabled) {
    fastKernelsNote = " (stock kernels)";
    return;
  }
  const k = registerFastWasmKernels({ blas, blasThreads });
  fastKernelsNote = k.blas
    ? ` + p2p kernels on ${k.blas} (${k.blasCore}, ${k.blasThreads} BLAS thread${
      k.blasThreads > 1 ? "s" : ""
    })`
    : " + p2p XNNPACK kernels";
}
