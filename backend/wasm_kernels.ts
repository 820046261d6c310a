/**
 * Registers p2p's fast kernels on the tfjs wasm backend: a
 * `Conv2DBackpropFilter` (tfjs-wasm has none, so training throws without it)
 * and a `Conv2DBackpropInput` built on XNNPACK convolutions (the stock one is
 * a plain loop and takes most of a training step).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import {
  backpropFilterDeps,
  conv2DBackpropFilterWasm,
} from "./kernels/conv2d_backprop_filter.ts";
import {
  backpropInputDeps,
  conv2DBackpropInputFast,
} from "./kernels/conv2d_backprop_input.ts";
import type { DirectKernel } from "./kernels/wasm_heap.ts";

const BACKEND = "wasm";

/** Kernel configs as they were before registration, to restore them. */
let stock: Map<string, tf.KernelConfig | undefined> | undefined;

/** Whether p2p's fast wasm kernels are registered now. */
export function fastWasmKernelsRegistered(): boolean {
  return stock !== undefined;
}

function lookup(name: string): tf.KernelConfig | undefined {
  try {
    return tf.getKernel(name, BACKEND);
  } catch {
    return undefined;
  }
}

function replace(config: tf.KernelConfig): void {
  if (lookup(config.kernelName) !== undefined) {
    tf.unregisterKernel(config.kernelName, BACKEND);
  }
  tf.registerKernel(config);
}

/**
 * Registers the fast `Conv2DBackpropInput` and the `Conv2DBackpropFilter`
 * kernels on the `wasm` backend. Idempotent: calling it again does nothing.
 * Call it once the wasm backend is set (or before: the kernels carry the
 * stock kernel's setup along).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { registerFastWasmKernels } from "./wasm_kernels.ts";
 *
 * await tf.setBackend("wasm");
 * registerFastWasmKernels();
 * const [dw] = tf.grads((w: tf.Tensor4D) =>
 *   tf.conv2d(tf.ones([1, 8, 8, 2]) as tf.Tensor4D, w, 2, "same").sum()
 * )([tf.ones([4, 4, 2, 3])]);
 * console.log(dw.shape); // [4, 4, 2, 3]
 * ```
 */
export function registerFastWasmKernels(): void {
  if (stock !== undefined) return;
  const stockInput = lookup("Conv2DBackpropInput");
  if (stockInput === undefined) {
    throw new Error(
      "registerFastWasmKernels: the wasm backend's Conv2DBackpropInput kernel is not registered " +
        "(is @tensorflow/tfjs-backend-wasm loaded?)",
    );
  }
  const saved = new Map<string, tf.KernelConfig | undefined>();
  saved.set("Conv2DBackpropInput", stockInput);
  saved.set("Conv2DBackpropFilter", lookup("Conv2DBackpropFilter"));
  const inputDeps = backpropInputDeps(
    stockInput.kernelFunc as unknown as DirectKernel,
  );
  const filterDeps = backpropFilterDeps();
  replace({
    kernelName: "Conv2DBackpropInput",
    backendName: BACKEND,
    setupFunc: stockInput.setupFunc,
    kernelFunc: ((args: Parameters<typeof conv2DBackpropInputFast>[0]) =>
      conv2DBackpropInputFast(args, inputDeps)) as unknown as tf.KernelFunc,
  });
  replace({
    kernelName: "Conv2DBackpropFilter",
    backendName: BACKEND,
    kernelFunc: ((args: Parameters<typeof conv2DBackpropFilterWasm>[0]) =>
      conv2DBackpropFilterWasm(args, filterDeps)) as unknown as tf.KernelFunc,
  });
  stock = saved;
}

/**
 * Puts back the wasm kernels that {@linkcode registerFastWasmKernels}
 * replaced (for comparisons and tests). Does nothing if they are not
 * registered.
 */
export function unregisterFastWasmKernels(): void {
  if (stock === undefined) return;
  for (const [name, config] of stock) {
    if (lookup(name) !== undefined) tf.unregisterKernel(name, BACKEND);
    if (config !== undefined) tf.registerKernel(config);
  }
  stock = undefined;
}
