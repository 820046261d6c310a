/**
 * Per-kernel profile of one call (tf.profile): time by kernel name, and
 * achieved GFLOP/s of each convolution kernel by shape.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Time spent in one kernel name. */
export interface KernelTime {
  /** Kernel name. */
  name: string;
  /** Total ms. */
  ms: number;
  /** Calls. */
  calls: number;
  /** Multiply-adds × 2 done (convolutions and matmuls; 0 for other kernels). */
  flops: number;
}

/** A convolution kernel at one shape. */
export interface ConvShapeTime extends KernelTime {
  /** Input shapes, output shape. */
  shapes: string;
}

/** What {@linkcode profileKernels} measured. */
export interface KernelProfile {
  /** Wall time of the profiled call, ms. */
  wallMs: number;
  /** Sum of kernel times, ms. */
  kernelMs: number;
  /** By kernel name, slowest first. */
  byKernel: KernelTime[];
  /** Convolution kernels by shape, slowest first. */
  convs: ConvShapeTime[];
}

/** Floating-point operations of a conv or matmul kernel call (multiply-add = 2), else 0. */
export function kernelFlops(
  name: string,
  inputs: number[][],
  outputs: number[][],
): number {
  const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const [a, b] = inputs;
  const o = outputs[0];
  switch (name) {
    case "Conv2D":
    case "FusedConv2D":
      return 2 * prod(o) * b[0] * b[1] * b[2];
    case "Conv2DBackpropInput":
      return 2 * prod(a) * b[0] * b[1] * b[2];
    case "Conv2DBackpropFilter":
      return 2 * prod(b) * o[0] * o[1] * o[2];
    case "BatchMatMul":
    case "_FusedMatMul": {
      const k = a[a.length - 1] === b[b.length - 2] ||
          a[a.length - 1] === b[b.length - 1]
        ? a[a.length - 1]
        : a[a.length - 2];
      return 2 * prod(o) * k;
    }
    default:
      return 0;
  }
}

/** Runs `f` once under tf.profile and aggregates its kernels. */
export async function profileKernels(
  f: () => unknown | Promise<unknown>,
): Promise<KernelProfile> {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await f();
  });
  const wallMs = performance.now() - t0;
  const byName = new Map<string, KernelTime>();
  const byShape = new Map<string, ConvShapeTime>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    if (k.name.endsWith("__op")) continue; // op wrappers: their kernels are listed too
    const ms = Number(k.kernelTimeMs) || 0;
    kernelMs += ms;
    const flops = kernelFlops(
      k.name,
      k.inputShapes as number[][],
      k.outputShapes as number[][],
    );
    const e = byName.get(k.name) ?? { name: k.name, ms: 0, calls: 0, flops: 0 };
    e.ms += ms;
    e.calls++;
    e.flops += flops;
    byName.set(k.name, e);
    if (flops > 0) {
      const shapes = `${JSON.stringify(k.inputShapes)} → ${
        JSON.stringify(k.outputShapes[0])
      }`;
      const key = `${k.name} ${shapes}`;
      const s = byShape.get(key) ??
        { name: k.name, shapes, ms: 0, calls: 0, flops: 0 };
      s.ms += ms;
      s.calls++;
      s.flops += flops;
      byShape.set(key, s);
    }
  }
  const slowest = <T extends KernelTime>(xs: Iterable<T>) =>
    [...xs].sort((a, b) => b.ms - a.ms);
  return {
    wallMs,
    kernelMs,
    byKernel: slowest(byName.values()),
    convs: slowest(byShape.values()),
  };
}
