/**
 * Registers p2p's kernels on the tfjs WebGPU backend, tiled matrix products
 * in WGSL with workgroup memory:
 *
 * - `Conv2DBackpropFilter` (`kernels/webgpu_conv2d_backprop_filter.ts`):
 *   split-K, in place of tfjs-webgpu's one-invocation-per-weight loop;
 * - `Conv2DBackpropInput` (`kernels/webgpu_conv2d_backprop_input.ts`), on
 *   request only: one product per sub-pixel phase, a quarter of the
 *   arithmetic of tfjs-webgpu's product over every tap of a zero-dilated `dy`
 *   at stride 2. tfjs-webgpu's channels-last one is already a tiled product
 *   (not naive), and on llvmpipe p2p's is no faster (it is bound by
 *   per-invocation overhead there, not arithmetic), so the stock one stays
 *   the default until a hardware GPU shows otherwise;
 * - `P2pAdamUpdate` (`kernels/webgpu_adam_update.ts`), the Adam update of
 *   p2p's optimizer: three element-wise dispatches a variable in place of
 *   about thirteen.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { conv2DBackpropFilterWebGpu } from "./kernels/webgpu_conv2d_backprop_filter.ts";
import { conv2DBackpropInputWebGpu } from "./kernels/webgpu_conv2d_backprop_input.ts";
import { adamUpdateWebGpu } from "./kernels/webgpu_adam_update.ts";

/** A p2p kernel function, given the stock kernel as its fallback. */
type WithFallback = (
  args: never,
  fallback?: tf.KernelFunc,
) => tf.TensorInfo | tf.TensorInfo[];

/** p2p's WebGPU kernels by name. */
const KERNELS: Record<string, WithFallback> = {
  Conv2DBackpropFilter: conv2DBackpropFilterWebGpu,
  Conv2DBackpropInput: conv2DBackpropInputWebGpu,
  P2pAdamUpdate: adamUpdateWebGpu,
};

const BACKEND = "webgpu";

let stock: Map<string, tf.KernelConfig | undefined> | undefined;

/** Kernels p2p can replace on WebGPU. */
export const WEBGPU_KERNEL_NAMES: readonly string[] = Object.keys(KERNELS);

/** Options of {@linkcode registerWebGpuKernels}. */
export interface WebGpuKernelsOptions {
  /** Replace `Conv2DBackpropInput` too. @default false */
  backpropInput?: boolean;
}

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
 * console.log(registerWebGpuKernels()); // ["Conv2DBackpropFilter", "P2pAdamUpdate"]
 * unregisterWebGpuKernels();
 * ```
 */
export function registerWebGpuKernels(
  options: WebGpuKernelsOptions = {},
): string[] {
  if (stock) return [...stock.keys()];
  stock = new Map();
  const names = WEBGPU_KERNEL_NAMES.filter((name) =>
    name !== "Conv2DBackpropInput" || options.backpropInput
  );
  for (const name of names) {
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
  return names;
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
