/**
 * Helpers shared by the fast wasm kernels: a minimal typing of the tfjs wasm
 * backend, calls into the backend's own kernels without going through the
 * engine, and access to the wasm heap.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A tensor as the backend sees it: data id, shape and dtype. */
export type TensorInfo = tf.TensorInfo;

/** The parts of tfjs-backend-wasm's `BackendWasm` the fast kernels use. */
export interface WasmBackendLike {
  /** Allocates an output tensor on the wasm heap. */
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  /** Releases a tensor's heap memory (when its reference count drops to 0). */
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  /** A typed-array view of a tensor's memory on the heap. */
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Signature of a backend kernel called directly (not through the engine). */
export type DirectKernel = (args: {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}) => TensorInfo;

/** Looks up the kernel function registered for `kernelName` on `backendName`. */
export function kernelOf(
  kernelName: string,
  backendName: string,
): DirectKernel {
  const config = tf.getKernel(kernelName, backendName);
  if (config == null) {
    throw new Error(
      `p2p backend: kernel '${kernelName}' is not registered for backend '${backendName}'`,
    );
  }
  return config.kernelFunc as unknown as DirectKernel;
}

/** A float32 view of a tensor's memory on the wasm heap (take it after every allocation). */
export function heapF32(
  backend: WasmBackendLike,
  info: TensorInfo,
): Float32Array {
  const view = backend.typedArrayFromHeap(info);
  if (!(view instanceof Float32Array)) {
    throw new TypeError(
      `p2p backend: expected a float32 tensor, received dtype '${info.dtype}' (shape [${info.shape}])`,
    );
  }
  return view;
}

/** Disposes intermediate tensors made by direct kernel calls. */
export function release(
  backend: WasmBackendLike,
  ...infos: TensorInfo[]
): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Explicit NHWC padding as `computeConv2DInfo` accepts it. */
export type ExplicitPad = [[0, 0], [number, number], [number, number], [0, 0]];

/** Builds an explicit NHWC padding. */
export function explicitPad(
  top: number,
  bottom: number,
  left: number,
  right: number,
): ExplicitPad {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

/** The attributes tfjs passes to every convolution-gradient kernel. */
export interface ConvGradAttrs {
  /** Strides. */
  strides: number | [number, number];
  /** Padding. */
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  /** Layout (p2p supports NHWC). */
  dataFormat: "NHWC" | "NCHW";
  /** Rounding of the output size. */
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** The wasm backend's kernels the XNNPACK-based gradients are built on. */
export interface XnnpackDeps {
  /** The wasm backend's (XNNPACK) Conv2D kernel. */
  conv2d: DirectKernel;
  /** The wasm backend's Transpose kernel. */
  transpose: DirectKernel;
  /** The wasm backend's Slice kernel. */
  slice: DirectKernel;
}

/**
 * tfjs's conv geometry for `x` by `filter` (NHWC), after checking that `dy`
 * has the output shape; the error names the kernel and both shapes.
 */
export function checkedConvInfo(
  kernel: string,
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  dy: TensorInfo,
  attrs: ConvGradAttrs,
): tf.backend_util.Conv2DInfo {
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
  const [n, outH, outW, outC] = dy.shape;
  if (
    n !== info.batchSize || outH !== info.outHeight ||
    outW !== info.outWidth || outC !== info.outChannels
  ) {
    throw new Error(
      `${kernel} (p2p wasm): dy shape [${dy.shape}] does not match the convolution of ` +
        `x [${xShape}] by a [${filterShape}] filter (expected [${info.batchSize}, ` +
        `${info.outHeight}, ${info.outWidth}, ${info.outChannels}])`,
    );
  }
  return info;
}
