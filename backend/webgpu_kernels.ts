/**
 * Registers p2p's kernels on the tfjs WebGPU backend, WGSL programs (some
 * feeding tfjs-webgpu's own matrix product), each falling back to the stock
 * kernel where it is not the faster one:
 *
 * - `Conv2DBackpropFilter` (`kernels/webgpu_conv2d_backprop_filter.ts`):
 *   the patches of `x` and tfjs-webgpu's matrix product (or a tiled split-K
 *   product), in place of its one-invocation-per-weight loop;
 * - `Conv2DBackpropInput` (`kernels/webgpu_conv2d_backprop_input.ts`): the
 *   columns `dy · Wᵀ` on tfjs-webgpu's matrix product, summed into `dx` by
 *   a col2im program (no product over the zeros of a dilated `dy`), past the
 *   innermost layers; or, on request, one tiled product per sub-pixel
 *   phase (on llvmpipe no faster than tfjs-webgpu's kernel: it is bound by
 *   per-invocation overhead there, not arithmetic);
 * - `P2pAdamUpdate` (`kernels/webgpu_adam_update.ts`), the Adam update of
 *   p2p's optimizer: three element-wise dispatches a variable in place of
 *   about thirteen;
 * - `P2pBatchNormTrain` / `P2pBatchNormTrainGrad`
 *   (`kernels/webgpu_batch_norm_train*.ts`), `@p2p/layers`' training-mode
 *   batch norm as per-channel reductions and one element-wise pass;
 * - `Conv2D` and `FusedConv2D` (`kernels/webgpu_conv2d.ts`) for outputs of
 *   few pixels or channels (a U-Net's innermost layers, a PatchGAN's last),
 *   split over the filter taps or `K`; the stock kernel for the others;
 * - `P2pLeakyReluGrad` (`kernels/webgpu_leaky_relu_grad.ts`), the leaky
 *   ReLU's gradient as one element-wise program (`@p2p/layers` routes the
 *   `LeakyRelu` gradient to it) in place of three.
 *
 * On software adapters (`registerProducts`) the convolutions' products run
 * on `kernels/webgpu_register_product.ts`, a product without workgroup
 * memory shaped for llvmpipe.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { conv2DBackpropFilterWebGpu } from "./kernels/webgpu_conv2d_backprop_filter.ts";
import { conv2DBackpropInputWebGpu } from "./kernels/webgpu_conv2d_backprop_input.ts";
import { batchNormTrainWebGpu } from "./kernels/webgpu_batch_norm_train.ts";
import { batchNormTrainGradWebGpu } from "./kernels/webgpu_batch_norm_train_grad.ts";
import { adamUpdateWebGpu } from "./kernels/webgpu_adam_update.ts";
import { conv2DWebGpu } from "./kernels/webgpu_conv2d.ts";
import { leakyReluGradWebGpu } from "./kernels/webgpu_leaky_relu_grad.ts";
import { setRegisterProducts } from "./kernels/webgpu_register_product.ts";

/** A p2p kernel function, given the stock kernel as its fallback. */
type WithFallback = (
  args: never,
  fallback?: tf.KernelFunc,
) => tf.TensorInfo | tf.TensorInfo[];

/** Whether `Conv2DBackpropInput` runs p2p's per-phase products (the option). */
let phases = false;

/** p2p's WebGPU kernels by name. */
const KERNELS: Record<string, WithFallback> = {
  Conv2DBackpropFilter: conv2DBackpropFilterWebGpu,
  Conv2DBackpropInput: (args, fallback) =>
    conv2DBackpropInputWebGpu(args, fallback, phases),
  P2pAdamUpdate: adamUpdateWebGpu,
  Conv2D: conv2DWebGpu,
  FusedConv2D: conv2DWebGpu,
  P2pBatchNormTrain: batchNormTrainWebGpu as WithFallback,
  P2pBatchNormTrainGrad: batchNormTrainGradWebGpu as WithFallback,
  P2pLeakyReluGrad: leakyReluGradWebGpu as WithFallback,
};

const BACKEND = "webgpu";

let stock: Map<string, tf.KernelConfig | undefined> | undefined;

/** Kernels p2p can replace on WebGPU. */
export const WEBGPU_KERNEL_NAMES: readonly string[] = Object.keys(KERNELS);

/** Options of {@linkcode registerWebGpuKernels}. */
export interface WebGpuKernelsOptions {
  /**
   * Run every `Conv2DBackpropInput` on p2p's per-phase products (else
   * columns and col2im, or the stock kernel for the innermost layers).
   * @default false
   */
  backpropInput?: boolean;
  /**
   * Run the convolutions' matrix products (forward, filter and input
   * gradients) on p2p's register-tiled product
   * (`kernels/webgpu_register_product.ts`), built for software adapters
   * such as llvmpipe (1.3–2× tfjs-webgpu's product there; its tiny
   * workgroups would waste a hardware GPU). `selectBackend` turns it on for
   * software adapters.
   * @default false
   */
  registerProducts?: boolean;
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
 * console.log(registerWebGpuKernels()); // ["Conv2DBackpropFilter", "Conv2DBackpropInput", "P2pAdamUpdate", "Conv2D", "FusedConv2D", "P2pBatchNormTrain", "P2pBatchNormTrainGrad", "P2pLeakyReluGrad"]
 * unregisterWebGpuKernels();
 * ```
 */
export function registerWebGpuKernels(
  options: WebGpuKernelsOptions = {},
): string[] {
  if (stock) return [...stock.keys()];
  stock = new Map();
  const names = [...WEBGPU_KERNEL_NAMES];
  phases = options.backpropInput ?? false;
  setRegisterProducts(options.registerProducts ?? false);
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
  setRegisterProducts(false);
}
