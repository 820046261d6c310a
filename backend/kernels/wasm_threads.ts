/**
 * Starts tfjs-wasm's threaded SIMD build in Deno.
 *
 * tfjs (4.22) believes Deno is Node and turns threads off; its emscripten
 * glue then needs three things Deno does not give it: pthread workers started
 * from a real file (tfjs hands `new Worker` a `blob:` URL), the main script
 * handed to each worker as a file (tfjs posts a `Blob`), and more than 2
 * logical cores (the C++ side uses half of them). This module writes the
 * worker and main scripts to a temporary folder, patches those three points
 * only while the backend starts, puts back what the glue overwrites
 * (`globalThis.Worker`), un-refs the workers so the process can exit, and
 * deletes the files. Anything unexpected (another tfjs version, missing
 * permissions) makes it start the single-threaded build instead and say why.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import os from "node:os";
import { Worker as NodeWorker } from "node:worker_threads";

/** What {@linkcode startWasmBackend} started. */
export interface WasmStart {
  /** Threads the wasm backend computes with (1: single-threaded). */
  threads: number;
  /** Why threads are off, when they are. */
  note?: string;
}

/** The worker script's line that loads the main script from a Blob or URL. */
const LOAD_MAIN =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';
/** The worker script's assignment Deno refuses (`location` is read-only there). */
const SET_LOCATION = "location:{href:__filename},";

interface EmscriptenWorker {
  unref?: () => void;
}
interface ThreadedModule {
  PThread?: {
    unusedWorkers: EmscriptenWorker[];
    runningWorkers: EmscriptenWorker[];
  };
  tfjs: { getThreadsCount(): number };
}

function wasmStarted(): boolean {
  // The engine keeps an instance once a backend has been initialised.
  const registry =
    (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  return registry != null && registry.wasm != null;
}

async function startPlain(note: string): Promise<WasmStart> {
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  if (!(await tf.setBackend("wasm"))) {
    throw new Error(`the wasm backend failed to start (${note})`);
  }
  return { threads: 1, note };
}

/**
 * Sets the wasm backend as tfjs's backend, computing with `threads` threads
 * when more than 1 is asked for and the threaded build starts; otherwise the
 * single-threaded SIMD build. Threads can only be chosen before the wasm
 * backend first starts in this process: afterwards this sets the backend and
 * reports the threads it already has.
 *
 * Needs read and write access to the temporary folder and `sys` (os.cpus)
 * for threads; without them it starts single-threaded.
 */
export async function startWasmBackend(threads: number): Promise<WasmStart> {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(
      `wasm threads must be a positive integer, received ${threads}`,
    );
  }
  if (wasmStarted()) {
    if (!(await tf.setBackend("wasm"))) {
      throw new Error("the wasm backend failed to start");
    }
    const n = tfWasm.getThreadsCount();
    return n === threads ? { threads: n } : {
      threads: n,
      note: `the wasm backend had already started with ${n} thread(s)`,
    };
  }
  if (threads === 1) return startPlain("1 thread asked for");
  if (typeof SharedArrayBuffer !== "function") {
    return startPlain("SharedArrayBuffer is unavailable");
  }

  let dir: string;
  let workerPath: string;
  let mainPath: string;
  try {
    const require = createRequire(import.meta.url);
    const { wasmWorkerContents } = require(
      "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js",
    ) as { wasmWorkerContents: string };
    const factory = require(
      "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js",
    ) as (...args: unknown[]) => unknown;
    if (
      !wasmWorkerContents.includes(LOAD_MAIN) ||
      !wasmWorkerContents.includes(SET_LOCATION)
    ) {
      return startPlain(
        "unexpected tfjs-wasm worker script (another tfjs version?)",
      );
    }
    dir = await Deno.makeTempDir({ prefix: "p2p-wasm-threads-" });
    mainPath = `${dir}/main.js`;
    workerPath = `${dir}/worker.cjs`;
    await Deno.writeTextFile(
      mainPath,
      `var WasmBackendModuleThreadedSimd = ${factory.toString()};\n`,
    );
    const worker = wasmWorkerContents
      .replace(LOAD_MAIN, `importScripts(${JSON.stringify(mainPath)});`)
      .replace(SET_LOCATION, "")
      // As tfjs does for its Blob: newlines inside string literals stay escaped.
      .replace(/\n/g, "\\n");
    await Deno.writeTextFile(workerPath, worker);
  } catch (e) {
    return startPlain(
      `could not prepare the worker scripts: ${(e as Error).message}`,
    );
  }

  const webWorker = globalThis.Worker;
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  const postMessage = NodeWorker.prototype.postMessage;
  const realCpus = os.cpus();
  let started = false;
  try {
    // The C++ side runs min(logical cores / 2, 4) threads at most.
    const fakeCpus = Array.from(
      { length: 2 * threads },
      (_, i) => realCpus[i % realCpus.length],
    );
    (os as { cpus: () => os.CpuInfo[] }).cpus = () => fakeCpus;
    URL.createObjectURL = (obj: Blob): string =>
      obj instanceof Blob && obj.type === "application/javascript"
        ? workerPath
        : createObjectURL(obj);
    NodeWorker.prototype.postMessage = function (
      this: NodeWorker,
      message: unknown,
      ...rest: unknown[]
    ): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      const fixed = m?.cmd === "load" && m.urlOrBlob instanceof Blob
        ? { ...m, urlOrBlob: mainPath }
        : message;
      (postMessage as (this: NodeWorker, ...a: unknown[]) => void).call(
        this,
        fixed,
        ...rest,
      );
    };
    tf.env().set("WASM_HAS_SIMD_SUPPORT", true);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
    tfWasm.setThreadsCount(threads);
    started = await tf.setBackend("wasm");
  } catch (e) {
    started = false;
    console.error(
      `p2p: threaded wasm failed to start: ${(e as Error).message}`,
    );
  } finally {
    (os as { cpus: () => os.CpuInfo[] }).cpus = cpus;
    URL.createObjectURL = createObjectURL;
    NodeWorker.prototype.postMessage = postMessage;
    // The emscripten glue replaces the global Worker with node's worker_threads.
    if (webWorker !== undefined) globalThis.Worker = webWorker;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  if (!started) return startPlain("the threaded wasm build did not start");
  const module = (tf.backend() as unknown as { wasm: ThreadedModule }).wasm;
  const pthreads = module.PThread;
  if (pthreads) {
    // Idle pthread workers must not keep the process alive.
    for (const w of [...pthreads.unusedWorkers, ...pthreads.runningWorkers]) {
      w.unref?.();
    }
  }
  const n = module.tfjs.getThreadsCount();
  return n === threads ? { threads: n } : {
    threads: n,
    note: `asked for ${threads} threads, the wasm build runs ${n}`,
  };
}
