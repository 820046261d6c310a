/**
 * Registers p2p's fast kernels on the tfjs wasm backend.
 *
 * - Always: a `Conv2DBackpropFilter` (tfjs-wasm has none, so training throws
 *   without it) and a `Conv2DBackpropInput` built on XNNPACK convolutions (the
 *   stock one is a plain loop and takes most of a training step).
 * - When a native BLAS loads (OpenBLAS through Deno FFI; needs `--allow-ffi`):
 *   `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput` and `Conv2DBackpropFilter`
 *   as im2col + `sgemm` on the wasm heap, several times faster again, and
 *   `BatchMatMul` as `sgemm`.
 * - Data movement without needless copies: `Identity` (shares memory),
 *   `Tile`, `Slice`, `SplitV`, `Concat`, `Sum` / `Mean` over leading axes;
 *   `LeakyRelu` and its gradient's `Greater` / `Select` as loops on the heap;
 *   and
 *   `P2pAdamUpdate`, the fused Adam update of `@p2p/train`'s `Adam`
 *   optimizer.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { type Blas, loadBlas } from "./kernels/blas.ts";
import {
  batchMatMulBlas,
  conv2DBackpropFilterBlas,
  conv2DBackpropInputBlas,
  conv2DBlas,
  fusedConv2DBlas,
  releaseBlasScratch,
} from "./kernels/blas_conv.ts";
import {
  backpropFilterDeps,
  conv2DBackpropFilterWasm,
} from "./kernels/conv2d_backprop_filter.ts";
import {
  backpropInputDeps,
  conv2DBackpropInputFast,
} from "./kernels/conv2d_backprop_input.ts";
import {
  concatFast,
  identityShared,
  reduceLeading,
  sliceFast,
  splitFast,
  tileFast,
} from "./kernels/data_kernels.ts";
import type { DirectKernel } from "./kernels/wasm_heap.ts";
import {
  greaterFast,
  leakyReluFast,
  selectFast,
} from "./kernels/elementwise_kernels.ts";
import { ADAM_UPDATE, adamUpdateWasm } from "./kernels/fused_adam.ts";

export { startWasmBackend, type WasmStart } from "./kernels/wasm_threads.ts";

const BACKEND = "wasm";

/** Options of {@linkcode registerFastWasmKernels}. */
export interface FastWasmKernelsOptions {
  /**
   * Native BLAS for the convolutions: `"auto"` loads OpenBLAS when the `ffi`
   * permission is granted and the library is installed, `"off"` never does, a
   * path loads that library (or fails loudly).
   * @default "auto"
   */
  blas?: "auto" | "off" | string;
  /** Threads of the native BLAS. @default navigator.hardwareConcurrency */
  blasThreads?: number;
  /**
   * Replace tfjs-wasm's `Conv2DBackpropInput` (`false` keeps the stock one,
   * for before/after comparisons; without a BLAS only).
   * @default true
   */
  backpropInput?: boolean;
  /**
   * Replace the data-movement and element-wise kernels too (`Identity`,
   * `Tile`, `Slice`, `SplitV`, `Concat`, `Sum` / `Mean` over leading axes,
   * `LeakyRelu`, `Greater`, `Select`); `false` keeps tfjs-wasm's own.
   * @default true
   */
  dataKernels?: boolean;
}

/** What {@linkcode registerFastWasmKernels} registered. */
export interface FastWasmKernels {
  /** Kernel names now replaced on the wasm backend. */
  kernels: string[];
  /** The native BLAS library in use, or `null` (XNNPACK-only kernels). */
  blas: string | null;
  /** Threads of the native BLAS (0 without one). */
  blasThreads: number;
  /** Why there is no native BLAS, when there is none. */
  note?: string;
}

interface Registered {
  info: FastWasmKernels;
  stock: Map<string, tf.KernelConfig | undefined>;
  blas?: Blas;
}

let registered: Registered | undefined;

/** What is registered now, or `null` when p2p's wasm kernels are not. */
export function fastWasmKernels(): FastWasmKernels | null {
  return registered ? { ...registered.info } : null;
}

/** Whether p2p's fast wasm kernels are registered now. */
export function fastWasmKernelsRegistered(): boolean {
  return registered !== undefined;
}

function lookup(name: string): tf.KernelConfig | undefined {
  return tf.getKernel(name, BACKEND) ?? undefined;
}

function stockKernel(name: string): tf.KernelConfig {
  const config = lookup(name);
  if (config === undefined) {
    throw new Error(
      `registerFastWasmKernels: the wasm backend's ${name} kernel is not registered ` +
        "(is @tensorflow/tfjs-backend-wasm loaded?)",
    );
  }
  return config;
}

type KernelImpl = (args: never) => tf.TensorInfo | tf.TensorInfo[];

/**
 * Registers p2p's kernels on the `wasm` backend (see the module doc).
 * Idempotent: while registered, calling it again returns what is registered
 * (call {@linkcode unregisterFastWasmKernels} first to change options). Call
 * it after `tf.setBackend("wasm")`, or before: the kernels carry the stock
 * kernels' setup along.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { registerFastWasmKernels } from "./wasm_kernels.ts";
 *
 * await tf.setBackend("wasm");
 * registerFastWasmKernels({ blas: "off" });
 * const [dw] = tf.grads((w: tf.Tensor) =>
 *   tf.conv2d(tf.ones([1, 8, 8, 2]) as tf.Tensor4D, w as tf.Tensor4D, 2, "same").sum()
 * )([tf.ones([4, 4, 2, 3])]);
 * console.log(dw.shape); // [4, 4, 2, 3]
 * ```
 */
export function registerFastWasmKernels(
  options: FastWasmKernelsOptions = {},
): FastWasmKernels {
  if (registered) return { ...registered.info };
  const wanted = options.blas ?? "auto";
  const why: string[] = [];
  let blas: Blas | undefined;
  if (wanted !== "off") {
    blas = loadBlas({
      path: wanted === "auto" ? undefined : wanted,
      threads: options.blasThreads,
    }, why);
    if (!blas && wanted !== "auto") {
      throw new Error(
        `registerFastWasmKernels: blas "${wanted}" did not load: ${
          why.join("; ")
        }`,
      );
    }
  } else {
    why.push('blas "off"');
  }

  const convNames = blas
    ? [
      "Conv2D",
      "FusedConv2D",
      "Conv2DBackpropInput",
      "Conv2DBackpropFilter",
      "BatchMatMul",
    ]
    : options.backpropInput === false
    ? ["Conv2DBackpropFilter"]
    : ["Conv2DBackpropInput", "Conv2DBackpropFilter"];
  const dataNames = options.dataKernels === false ? [] : [
    "Identity",
    "Tile",
    "Slice",
    "SplitV",
    "Sum",
    "Mean",
    "Concat",
    "LeakyRelu",
    "Greater",
    "Select",
  ];
  const names = [
    ...convNames,
    ...dataNames,
    ...(dataNames.length ? [ADAM_UPDATE] : []),
  ];
  const stock = new Map<string, tf.KernelConfig | undefined>();
  for (const name of names) stock.set(name, lookup(name));
  const stockInput = stockKernel("Conv2DBackpropInput");
  const stockConv = stockKernel("Conv2D");
  const stockFused = stockKernel("FusedConv2D");
  const stockMatMul = stockKernel("BatchMatMul");
  const asDirect = (c: tf.KernelConfig) =>
    c.kernelFunc as unknown as DirectKernel;
  // The XNNPACK-based kernels call the stock Conv2D, Transpose and Slice.
  const inputDeps = backpropInputDeps(asDirect(stockInput));
  inputDeps.conv2d = asDirect(stockConv);
  const filterDeps = backpropFilterDeps();
  filterDeps.conv2d = asDirect(stockConv);

  const data: Record<string, KernelImpl> = {};
  for (const name of dataNames) {
    const fallback = asDirect(stockKernel(name));
    const fast: Record<string, (args: never, f: DirectKernel) => unknown> = {
      Concat: concatFast,
      LeakyRelu: leakyReluFast,
      Greater: greaterFast,
      Select: selectFast,
    };
    if (fast[name] !== undefined) {
      const impl = fast[name];
      data[name] = ((args: never) => impl(args, fallback)) as KernelImpl;
      continue;
    }
    data[name] = name === "Identity"
      ? (args: Parameters<typeof identityShared>[0]) =>
        identityShared(args, fallback)
      : name === "Tile"
      ? (args: Parameters<typeof tileFast>[0]) => tileFast(args, fallback)
      : name === "Slice"
      ? (args: Parameters<typeof sliceFast>[0]) => sliceFast(args, fallback)
      : name === "SplitV"
      ? (args: Parameters<typeof splitFast>[0]) => splitFast(args, fallback)
      : (args: Parameters<typeof reduceLeading>[0]) =>
        reduceLeading(args, fallback, name === "Mean");
  }
  const convImpls: Record<string, KernelImpl> = blas
    ? {
      Conv2D: (args: Parameters<typeof conv2DBlas>[0]) =>
        conv2DBlas(args, blas!, asDirect(stockConv)),
      FusedConv2D: (args: Parameters<typeof fusedConv2DBlas>[0]) =>
        fusedConv2DBlas(args, blas!, asDirect(stockFused)),
      Conv2DBackpropInput: (
        args: Parameters<typeof conv2DBackpropInputBlas>[0],
      ) => conv2DBackpropInputBlas(args, blas!, asDirect(stockInput)),
      Conv2DBackpropFilter: (
        args: Parameters<typeof conv2DBackpropFilterBlas>[0],
      ) => conv2DBackpropFilterBlas(args, blas!),
      BatchMatMul: (args: Parameters<typeof batchMatMulBlas>[0]) =>
        batchMatMulBlas(args, blas!, asDirect(stockMatMul)),
    }
    : {
      Conv2DBackpropInput: (
        args: Parameters<typeof conv2DBackpropInputFast>[0],
      ) => conv2DBackpropInputFast(args, inputDeps),
      Conv2DBackpropFilter: (
        args: Parameters<typeof conv2DBackpropFilterWasm>[0],
      ) => conv2DBackpropFilterWasm(args, filterDeps),
    };
  const impls: Record<string, KernelImpl> = {
    ...convImpls,
    ...data,
    [ADAM_UPDATE]: (args: Parameters<typeof adamUpdateWasm>[0]) =>
      adamUpdateWasm(args),
  };
  for (const name of names) {
    if (impls[name] === undefined) {
      throw new Error(`registerFastWasmKernels: no kernel for ${name}`);
    }
    const before = stock.get(name);
    if (before !== undefined) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({
      kernelName: name,
      backendName: BACKEND,
      setupFunc: before?.setupFunc,
      kernelFunc: impls[name] as unknown as tf.KernelFunc,
    });
  }
  const info: FastWasmKernels = {
    kernels: names,
    blas: blas?.path ?? null,
    blasThreads: blas?.threads ?? 0,
    ...(blas ? {} : { note: why.join("; ") }),
  };
  registered = { info, stock, blas };
  return { ...info };
}

/**
 * Puts back the wasm kernels that {@linkcode registerFastWasmKernels}
 * replaced and closes the native BLAS. Does nothing if they are not
 * registered.
 */
export function unregisterFastWasmKernels(): void {
  if (!registered) return;
  for (const [name, config] of registered.stock) {
    if (lookup(name) !== undefined) tf.unregisterKernel(name, BACKEND);
    if (config !== undefined) tf.registerKernel(config);
  }
  registered.blas?.close();
  releaseBlasScratch();
  registered = undefined;
}
