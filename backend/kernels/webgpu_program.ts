/**
 * The parts of tfjs-webgpu's program interface that p2p's WGSL kernels use
 * (`WebGPUProgram` and `WebGPUBackend.runWebGPUProgram` are not exported as
 * types by the package). tfjs prepends to `getUserCode()` the uniforms
 * struct (its own fields, then `uniforms`), the bindings (`result`, then one
 * `array<f32>` per name in `variableNames`) and `localId`, `workgroupId`,
 * `globalId` as private variables.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-webgpu's `WebGPUProgram` interface p2p's programs fill in. */
export interface WebGpuProgram {
  /** Output tensor shape. */
  outputShape: number[];
  /** Cache key of the compiled pipeline (tfjs appends ranks and dtypes). */
  shaderKey: string;
  /** Which output dimensions map to the dispatch's x / y / z (for tfjs's helpers). */
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  /** Workgroups to dispatch. */
  dispatch: [number, number, number];
  /** Names of the input bindings, in order. */
  variableNames: string[];
  /** Program-defined uniforms, WGSL struct members (`name : type,`). */
  uniforms?: string;
  /** Invocations per workgroup. */
  workgroupSize: [number, number, number];
  /** Whether tfjs adds a `size` uniform (the output's element count). */
  size?: boolean;
  /** The WGSL body (helpers and `fn main`). */
  getUserCode(): string;
}

/** What p2p's WebGPU kernels need of tfjs-webgpu's `WebGPUBackend`. */
export interface WebGpuBackendLike {
  /** Compiles (once per shader key) and dispatches `program`. */
  runWebGPUProgram(
    program: WebGpuProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    programDefinedUniform?: Array<{ type: string; data: number[] }>,
  ): tf.TensorInfo;
  /** Releases a tensor's buffer. */
  disposeData(dataId: object): boolean;
}

/** Invocations per workgroup of p2p's tiled matrix products. */
export const THREADS = 256;

/** A tiled product's workgroup shape: `wgx × (256 / wgx)` invocations, 4 × 4 outputs each. */
export interface TileShape {
  /** Invocations along the output's columns. */
  wgx: number;
  /** Output rows per workgroup (`4 · 256 / wgx`). */
  tileM: number;
  /** Output columns per workgroup (`4 · wgx`). */
  tileN: number;
}

/**
 * The tile for `n` output columns: 64 wide, narrower (and taller) for 32 or
 * 16 columns and fewer, so that few columns are not mostly padding.
 */
export function tileShape(n: number): TileShape {
  const wgx = n <= 16 ? 4 : n <= 32 ? 8 : 16;
  return { wgx, tileM: 4 * (THREADS / wgx), tileN: 4 * wgx };
}
