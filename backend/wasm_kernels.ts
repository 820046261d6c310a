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
 *   `LeakyRelu`, its gradient (`P2pLeakyReluGrad`, and tfjs's `Greater` /
 *   `Select` where that runs), `Tanh` and a bias `Add`, as loops on the
 *   heap; and
 *   `P2pAdamUpdate`, the fused Adam update of `@p2p/train`'s `Adam`
 *   optimizer; `P2pBatchNormTrain` / `P2pBatchNormTrainGrad`, training-mode
 *   batch normalisation and its gradient in two passes each (`@p2p/layers`'
 *   BatchNormalization runs them); `P2pDropout`, seeded dropout in one pass
 *   (`@p2p/layers`' SeededDropout runs it).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { type Blas, loadBlas } from "./kernels/blas.ts";
import { releaseBlasScratch } from "./kernels/blas_conv.ts";
import { backpropFilterDeps } from "./kernels/conv2d_backprop_filter.ts";
import { backpropInputDeps } from "./kernels/conv2d_backprop_input.ts";
import type { DirectKernel } from "./kernels/wasm_heap.ts";
import { setWasmKernelContext } from "./kernels/wasm/context.ts";
import { adamUpdateConfig } from "./kernels/wasm/adam_update.ts";
import { batchMatMulConfig } from "./kernels/wasm/batch_mat_mul.ts";
import { batchNormTrainConfig } from "./kernels/wasm/batch_norm_train.ts";
import { batchNormTrainGradConfig } from "./kernels/wasm/batch_norm_train_grad.ts";
import { concatConfig } from "./kernels/wasm/concat.ts";
import { dropoutConfig } from "./kernels/wasm/dropout.ts";
import { conv2DConfig } from "./kernels/wasm/conv2d.ts";
import { conv2DBackpropFilterConfig } from "./kernels/wasm/conv2d_backprop_filter.ts";
import { conv2DBackpropInputConfig } from "./kernels/wasm/conv2d_backprop_input.ts";
import { fusedConv2DConfig } from "./kernels/wasm/fused_conv2d.ts";
import { greaterConfig } from "./kernels/wasm/greater.ts";
import { identityConfig } from "./kernels/wasm/identity.ts";
import { leakyReluConfig } from "./kernels/wasm/leaky_relu.ts";
import { tanhConfig } from "./kernels/wasm/tanh.ts";
import { addConfig } from "./kernels/wasm/add.ts";
import { leakyReluGradConfig } from "./kernels/wasm/leaky_relu_grad.ts";
import { meanConfig } from "./kernels/wasm/mean.ts";
import { selectConfig } from "./kernels/wasm/select.ts";
import { sliceConfig } from "./kernels/wasm/slice.ts";
import { splitVConfig } from "./kernels/wasm/split_v.ts";
import { sumConfig } from "./kernels/wasm/sum.ts";
import { tileConfig } from "./kernels/wasm/tile.ts";

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
   * `LeakyRelu`, `P2pLeakyReluGrad`, `Tanh`, `Add` of a bias, `Greater`,
   * `Select`); `false` keeps tfjs-wasm's own.
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
  /** The native BLAS's kernels (OpenBLAS's core name and how it was chosen), when there is one. */
  blasCore?: string;
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

function stockKernel(
  name: string,
  replaced?: Map<string, tf.KernelConfig | undefined>,
): tf.KernelConfig {
  const config = replaced?.has(name) ? replaced.get(name) : lookup(name);
  if (config === undefined) {
    throw new Error(
      `registerFastWasmKernels: the wasm backend's ${name} kernel is not registered ` +
        "(is @tensorflow/tfjs-backend-wasm loaded?)",
    );
  }
  return config;
}

/** With a native BLAS: the convolutions and matrix products on `sgemm`. */
const BLAS_KERNELS: tf.KernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  batchMatMulConfig,
];

/** Without one: the convolution gradients on XNNPACK convolutions. */
const XNNPACK_KERNELS: tf.KernelConfig[] = [
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
];

/** Data movement, element-wise kernels, the fused Adam update and training-mode batch norm. */
const DATA_KERNELS: tf.KernelConfig[] = [
  identityConfig,
  tileConfig,
  sliceConfig,
  splitVConfig,
  sumConfig,
  meanConfig,
  concatConfig,
  leakyReluConfig,
  leakyReluGradConfig,
  tanhConfig,
  addConfig,
  greaterConfig,
  selectConfig,
  adamUpdateConfig,
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  dropoutConfig,
];

/** Loads the native BLAS `options` ask for; `undefined` (reason in `why`) when there is none. */
function openBlas(
  options: FastWasmKernelsOptions,
  why: string[],
): Blas | undefined {
  const wanted = options.blas ?? "auto";
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

  return blas;
}

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
  const why: string[] = [];
  const blas = openBlas(options, why);
  const configs = [
    ...(blas
      ? BLAS_KERNELS
      : options.backpropInput === false
      ? [conv2DBackpropFilterConfig]
      : XNNPACK_KERNELS),
    ...(options.dataKernels === false ? [] : DATA_KERNELS),
  ];
  const names = configs.map((c) => c.kernelName);
  const stock = new Map<string, tf.KernelConfig | undefined>();
  for (const name of names) stock.set(name, lookup(name));
  const asDirect = (c: tf.KernelConfig) =>
    c.kernelFunc as unknown as DirectKernel;
  // The XNNPACK-based kernels are built on the stock Conv2D, Transpose and Slice.
  const inputDeps = backpropInputDeps(
    asDirect(stockKernel("Conv2DBackpropInput")),
  );
  inputDeps.conv2d = asDirect(stockKernel("Conv2D"));
  const filterDeps = backpropFilterDeps();
  filterDeps.conv2d = asDirect(stockKernel("Conv2D"));
  setWasmKernelContext({
    blas: blas ?? null,
    stock: (name) => asDirect(stockKernel(name, stock)),
    inputDeps,
    filterDeps,
  });
  for (const config of configs) {
    const before = stock.get(config.kernelName);
    if (before !== undefined) tf.unregisterKernel(config.kernelName, BACKEND);
    tf.registerKernel({ ...config, setupFunc: before?.setupFunc });
  }
  const info: FastWasmKernels = {
    kernels: names,
    blas: blas?.path ?? null,
    blasThreads: blas?.threads ?? 0,
    ...(blas ? { blasCore: blas.core } : { note: why.join("; ") }),
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
  setWasmKernelContext(undefined);
  registered = undefined;
}
