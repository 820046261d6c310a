/**
 * Registers p2p's kernels on the tfjs WebGPU backend, tiled matrix products
 * in WGSL with workgroup memory:
 *
 * - `Conv2DBackpropFilter` (`kernels/webgpu_conv2d_backprop_filter.ts`):
 *   split-K, in place of tfjs-webgpu's one-invocation-per-weight loop;
 * - `Conv2DBackpropInput` (`kernels/webgpu_conv2d_backprop_input.ts`): one
 *   product per sub-pixel phase, in place of tfjs-webgpu's product over every
 *   tap of a zero-dilated `dy` (4× the work at stride 2).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { conv2DBackpropFilterWebGpu } from "./kernels/webgpu_conv2d_backprop_filter.ts";
import { conv2DBackpropInputWebGpu } from "./kernels/webgpu_conv2d_backprop_input.ts";

/** A p2p kernel function, given the stock kernel as its fallback. */
type WithFallback = (
  args: never,
  fallback?: tf.KernelFunc,
) => tf.TensorInfo | tf.TensorInfo[];

/** p2p's WebGPU kernels by name. */
const KERNELS: Record<string, WithFallback> = {
  Conv2DBackpropFilter: conv2DBackpropFilterWebGpu,
  Conv2DBackpropInput: conv2DBackpropInputWebGpu,
};

const BACKEND = "webgpu";

let stock: Map<string, tf.KernelConfig | undefined> | undefined;

/** The kernels {@linkcode registerWebGpuKernels} replaces. */
export const WEBGPU_KERNEL_NAMES: readonly string[] = Object.keys(KERNELS);

/** Whether p2p's WebGPU kernels are registered now. */
export function webGpuKernelsRegistered(): boolean {
  return stock !== undefined;
}

/**
 * Registers p2p's WebGPU kernels (idempotent); returns their names. The
 * stock kernels stay as fallbacks for what p2p's do not handle (channels-first
 * layouts) and come back with {@linkcode unregisterWebGpuKernels}.
 *
 * @example
 * ```ts
 * import { registerWebGpuKernels, unregisterWebGpuKernels } from "./webgpu_kernels.ts";
 * console.log(registerWebGpuKernels()); // ["Conv2DBackpropFilter", "Conv2DBackpropInput"]
 * unregisterWebGpuKernels();
 * ```
 */
export function registerWebGpuKernels(): string[] {
  if (stock) return [...WEBGPU_KERNEL_NAMES];
  stock = new Map();
  for (const name of WEBGPU_KERNEL_NAMES) {
    const before = tf.getKernel(name, BACKEND) ?? undefined;
    stock.set(name, before);
    if (before) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({
      kernelName: name,
      backendName: BACKEND,
      setupFunc: before?.setupFunc,
      kernelFunc: ((args: never) =>
        KERNELS[name](args, before?.kernelFunc)) as unknown as tf.KernelFunc,
    });
  }
  return [...WEBGPU_KERNEL_NAMES];
}

/** Puts tfjs-webgpu's own kernels back. Does nothing if p2p's are not registered. */
export function unregisterWebGpuKernels(): void {
  if (!stock) return;
  for (const [name, config] of stock) {
    if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
    if (config) tf.registerKernel(config);
  }
  stock = undefined;
}
