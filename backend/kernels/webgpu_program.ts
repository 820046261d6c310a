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
import { backend_util } from "@tensorflow/tfjs";

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
  /** Whether tfjs adds a `size` uniform (the output's element count, over `outputComponent`). */
  size?: boolean;
  /** Elements per binding entry: 4 declares every binding `array<vec4<f32>>`. @default 1 */
  outputComponent?: number;
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
    programDefinedUniform?: ProgramUniform[],
  ): tf.TensorInfo;
  /** Releases a tensor's buffer. */
  disposeData(dataId: object): boolean;
}

/** A program-defined uniform's value, as `runWebGPUProgram` takes it. */
export interface ProgramUniform {
  /** WGSL scalar type: `"int32"` or `"float32"`. */
  type: string;
  /** The value. */
  data: number[];
}

/** `value` as an `i32` program-defined uniform. */
export function int32Uniform(value: number): ProgramUniform {
  return { type: "int32", data: [value] };
}

/** Runs `fallback` (tfjs-webgpu's stock kernel) on the arguments a p2p kernel received. */
export function runFallback(
  fallback: tf.KernelFunc,
  args: object,
): tf.TensorInfo {
  return fallback(
    args as unknown as Parameters<tf.KernelFunc>[0],
  ) as tf.TensorInfo;
}

/**
 * The geometry of a channels-last convolution (no dilation) of an input
 * `inShape` (`[batch, inH, inW, inC]`) by a filter `filterShape` (`[fh, fw,
 * inC, outC]`).
 */
export function channelsLastConv2DInfo(
  inShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  pad: Parameters<typeof backend_util.computeConv2DInfo>[4],
  dimRoundingMode?: "floor" | "round" | "ceil",
): tf.backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
}

/**
 * WGSL uniform members for a convolution's geometry, in the order of
 * {@linkcode convGeometry}'s values (ending in a comma, for more members).
 */
export const CONV_GEOMETRY_UNIFORMS: string =
  "inH : i32, inW : i32, inC : i32, outH : i32, outW : i32, fw : i32, strideH : i32, strideW : i32, padT : i32, padL : i32,";

/**
 * The geometry of the convolution `info` describes, in the order of
 * {@linkcode CONV_GEOMETRY_UNIFORMS}: input height, width and channels,
 * output height and width, filter width, strides, top and left padding.
 */
export function convGeometry(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
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

/** K values a tiled product loads into workgroup memory per step. */
export const TILE_K = 16;

/** Invocation and dispatch shape of a tiled product over an `m × n` output, `z` deep. */
export interface TiledLaunch {
  /** The tile. */
  tile: TileShape;
  /** Invocations per workgroup: `[wgx, 256 / wgx, 1]`. */
  workgroupSize: [number, number, number];
  /** Workgroups: tiles along n, along m, and `z`. */
  dispatch: [number, number, number];
}

/** The launch of a tiled product whose output is `m × n`, `z` products deep. */
export function tiledLaunch(m: number, n: number, z: number): TiledLaunch {
  const tile = tileShape(n);
  return {
    tile,
    workgroupSize: [tile.wgx, THREADS / tile.wgx, 1],
    dispatch: [Math.ceil(n / tile.tileN), Math.ceil(m / tile.tileM), z],
  };
}

/**
 * WGSL shared by p2p's tiled products, for a tile `wgx` invocations wide:
 * `memory` declares the A (`TILE_K × tileM`) and B (`TILE_K × tileN`) tiles;
 * `start` (first in `main`) names the invocation (`tx`, `ty`, `flat`), its
 * tile's origin (`m0`, `n0`) and zeroes its 4 × 4 accumulator `acc`;
 * `accumulate` adds the loaded tiles' product to `acc` (between the
 * barriers that follow the loads).
 */
export function tiledProductWgsl(
  wgx: number,
): { memory: string; start: string; accumulate: string } {
  const tileN = 4 * wgx, tileM = 4 * (THREADS / wgx);
  return {
    memory: /* wgsl */ `
var<workgroup> tileA : array<array<f32, ${tileM}>, ${TILE_K}>;
var<workgroup> tileB : array<array<f32, ${tileN}>, ${TILE_K}>;`,
    start: /* wgsl */ `
  let tx = i32(localId.x);
  let ty = i32(localId.y);
  let flat = ty * ${wgx} + tx;
  let n0 = i32(workgroupId.x) * ${tileN};
  let m0 = i32(workgroupId.y) * ${tileM};
  var acc : array<vec4<f32>, 4>;
  for (var i = 0; i < 4; i++) {
    acc[i] = vec4<f32>(0.0);
  }`,
    accumulate: /* wgsl */ `
    for (var kk = 0; kk < ${TILE_K}; kk++) {
      let bv = vec4<f32>(tileB[kk][tx * 4], tileB[kk][tx * 4 + 1],
                         tileB[kk][tx * 4 + 2], tileB[kk][tx * 4 + 3]);
      for (var i = 0; i < 4; i++) {
        acc[i] = fma(vec4<f32>(tileA[kk][ty * 4 + i]), bv, acc[i]);
      }
    }`,
  };
}

/** WGSL pieces of a split-K tiled product, from {@linkcode splitKProductWgsl}. */
export interface SplitKProductWgsl {
  /** Names (after `start`) the split (`split`, `workgroupId.z`) and its K range (`kStart` to `kEnd`). */
  range: string;
  /**
   * Fills `tileB` (in the loop over the split's K tiles, after A's loads)
   * with rows `k0 …` (below `kEnd`), columns `nB` of B.
   */
  loadB: string;
  /**
   * Runs `statements` (WGSL lines) for each of the invocation's outputs
   * inside `M × N` (after the loop), with `m`, `n`, `acc[i][j]` and `base`
   * (the split's offset in `result`) in scope.
   */
  store(statements: string[]): string;
}

/**
 * WGSL shared by the split-K tiled products of p2p's convolutions, for a
 * tile `wgx` invocations wide (after {@linkcode tiledProductWgsl}'s
 * `start`) whose B is the binding `b`, row-major `[K, N]`: uniforms `M`,
 * `N`, `K` and `kPerSplit`, each split's `M × N` partial product at
 * `split · M · N` in `result`.
 */
export function splitKProductWgsl(wgx: number, b: string): SplitKProductWgsl {
  const tileN = 4 * wgx;
  return {
    range: /* wgsl */ `
  let split = i32(workgroupId.z);
  let kStart = split * uniforms.kPerSplit;
  let kEnd = min(kStart + uniforms.kPerSplit, uniforms.K);`,
    loadB: /* wgsl */ `    for (var r = 0; r < ${
      (tileN * TILE_K) / THREADS
    }; r++) {
      let kk = flat / ${tileN} + r * ${THREADS / tileN};
      let k = k0 + kk;
      var v = 0.0;
      if (nB < uniforms.N && k < kEnd) {
        v = ${b}[k * uniforms.N + nB];
      }
      tileB[kk][flat % ${tileN}] = v;
    }`,
    store: (statements) =>
      /* wgsl */ `  let base = split * uniforms.M * uniforms.N;
  for (var i = 0; i < 4; i++) {
    let m = m0 + ty * 4 + i;
    if (m < uniforms.M) {
      for (var j = 0; j < 4; j++) {
        let n = n0 + tx * 4 + j;
        if (n < uniforms.N) {
${statements.map((s) => `          ${s}`).join("\n")}
        }
      }
    }
  }`,
  };
}
