/**
 * Registers p2p's kernels on the tfjs WebGPU backend: `Conv2DBackpropFilter`
 * as a tiled, split-K matrix product in WGSL
 * (`kernels/webgpu_conv2d_backprop_filter.ts`) in place of tfjs-webgpu's
 * one-invocation-per-weight loop. (tfjs-webgpu's channels-last
 * `Conv2DBackpropInput` is already a tiled matrix product and is kept.)
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  conv2DBackpropFilterWebGpu,
  type WebGpuBackendLike,
} from "./kernels/webgpu_conv2d_backprop_filter.ts";

const BACKEND = "webgpu";

let stock: Map<string, tf.KernelConfig | undefined> | undefined;

/** The kernels {@linkcode registerWebGpuKernels} replaces. */
export const WEBGPU_KERNEL_NAMES: readonly string[] = ["Conv2DBackpropFilter"];

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
 * console.log(registerWebGpuKernels()); // ["Conv2DBackpropFilter"]
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
      kernelFunc: ((args: Parameters<typeof conv2DBackpropFilterWebGpu>[0]) =>
        conv2DBackpropFilterWebGpu(
          args as {
            inputs: Parameters<typeof conv2DBackpropFilterWebGpu>[0]["inputs"];
            backend: WebGpuBackendLike;
            attrs: tf.Conv2DBackpropFilterAttrs;
          },
          before?.kernelFunc,
        )) as unknown as tf.KernelFunc,
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
