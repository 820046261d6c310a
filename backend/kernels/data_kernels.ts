/**
 * Faster wasm versions of kernels that only move or reduce data, written
 * against the wasm heap directly (the stock ones copy whole inputs, transpose
 * before reducing, or loop element by element):
 *
 * - `Identity` shares the input's memory (reference-counted, as tfjs-wasm's
 *   own `Reshape` does) instead of copying it;
 * - `Tile` writes the input once and doubles it along each axis with
 *   `copyWithin` (the stock kernel: ~40 ns an element);
 * - `Slice` (and so `SplitV`, which is built on it) copies runs on the heap
 *   instead of first copying the whole input out of it;
 * - `Sum` and `Mean` over leading axes (batch-norm statistics and their
 *   gradients reduce N·H·W of an NHWC tensor) accumulate rows in float64
 *   instead of transposing first.
 *
 * Anything else (strings, bools, other axes) goes to the stock kernel.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { DirectKernel, TensorInfo, WasmBackendLike } from "./wasm_heap.ts";
import { heapSimdModule } from "./heap_simd_module.ts";
import {
  COPY_ROWS_WASM,
  COPY_ROWS_WASM_SHARED,
} from "./wasm/copy_rows_wasm.ts";

/** `wasm/copy_rows.wat`'s strided copy on a backend's heap (byte offsets), or `null`. */
const copyRows = heapSimdModule(
  COPY_ROWS_WASM,
  COPY_ROWS_WASM_SHARED,
  (e) =>
    e.copy_rows as (
      src: number,
      dst: number,
      bytes: number,
      rows: number,
      srcStride: number,
      dstStride: number,
    ) => void,
);

/** The wasm backend's reference counting, used to share memory. */
interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

type Args = {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike & RefCounting;
  attrs: Record<string, unknown>;
};

const call = (f: DirectKernel, args: Args): TensorInfo =>
  f(args as Parameters<DirectKernel>[0]);

/** Views of the whole heap in 4-byte elements, plus the element offset of `info`. */
function heap32(
  backend: WasmBackendLike,
  info: TensorInfo,
): [Int32Array, number] {
  const view = backend.typedArrayFromHeap(info);
  return [
    new Int32Array(view.buffer, 0, view.buffer.byteLength >>> 2),
    view.byteOffset >>> 2,
  ];
}

const fourBytes = (dtype: tf.DataType) =>
  dtype === "float32" || dtype === "int32";

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** `Identity` that shares memory with its input (no copy). */
export function identityShared(args: Args, fallback: DirectKernel): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === "string") return call(fallback, args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** `Tile` by copying the input once and doubling blocks along each axis. */
export function tileFast(args: Args, fallback: DirectKernel): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  const reps = attrs.reps as number[];
  const r = x.shape.length;
  if (!fourBytes(x.dtype) || r === 0 || reps.length !== r) {
    return call(fallback, args);
  }
  const outShape = x.shape.map((s, i) => s * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  const size = outShape.reduce((a, b) => a * b, 1);
  if (size === 0) return out;
  const [heap, xo] = heap32(backend, x);
  const [, oo] = heap32(backend, out);
  const os = strides(outShape);
  // 1. The input at repetition 0 of every axis, row by row along the last axis.
  const last = x.shape[r - 1];
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  for (let row = 0; row < rows; row++) {
    let rem = row;
    let dst = oo;
    for (let a = r - 2; a >= 0; a--) {
      const i = rem % x.shape[a];
      rem = (rem - i) / x.shape[a];
      dst += i * os[a];
    }
    const src = xo + row * last;
    if (last < 256) {
      for (let i = 0; i < last; i++) heap[dst + i] = heap[src + i];
    } else heap.copyWithin(dst, src, src + last);
  }
  // 2. From the last axis to the first: every block (prefix index within the
  //    input's extent, full extent of later axes) is contiguous; repeat it.
  for (let k = r - 1; k >= 0; k--) {
    if (reps[k] === 1) continue;
    const block = x.shape[k] * os[k];
    const prefixes = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
    for (let p = 0; p < prefixes; p++) {
      let rem = p;
      let start = oo;
      for (let a = k - 1; a >= 0; a--) {
        const i = rem % x.shape[a];
        rem = (rem - i) / x.shape[a];
        start += i * os[a];
      }
      // Doubling: copy the filled part after itself until reps[k] blocks.
      let filled = 1;
      while (filled < reps[k]) {
        const n = Math.min(filled, reps[k] - filled);
        heap.copyWithin(start + filled * block, start, start + n * block);
        filled += n;
      }
    }
  }
  return out;
}

/** `Slice` that copies contiguous runs on the heap. */
export function sliceFast(args: Args, fallback: DirectKernel): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  if (!fourBytes(x.dtype)) return call(fallback, args);
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as unknown as tf.Tensor,
    attrs.begin as number[],
    attrs.size as number[],
  );
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const [heap, xo] = heap32(backend, x);
  const [, oo] = heap32(backend, out);
  const r = x.shape.length;
  const xs = strides(x.shape);
  // Merge trailing axes taken whole into one contiguous run.
  let k = r - 1;
  let run = size[k];
  while (k > 0 && size[k] === x.shape[k] && begin[k] === 0) {
    k--;
    run *= size[k];
  }
  // Axes 0 … k−1 are iterated; axis k (with the merged ones after it) is a run.
  let src0 = xo;
  for (let a = 0; a < r; a++) src0 += begin[a] * xs[a];
  const rows = total / run;
  const idx = new Array<number>(k).fill(0);
  let src = src0;
  let dst = oo;
  const short = run < 256; // copyWithin costs ~150 ns a call: loop short runs
  for (let row = 0; row < rows; row++) {
    if (short) { for (let i = 0; i < run; i++) heap[dst + i] = heap[src + i]; }
    else heap.copyWithin(dst, src, src + run);
    dst += run;
    // Odometer over axes k−1 … 0.
    for (let a = k - 1; a >= 0; a--) {
      idx[a]++;
      src += xs[a];
      if (idx[a] < size[a]) break;
      src -= idx[a] * xs[a];
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * `Sum` / `Mean` over leading axes (e.g. N, H, W of NHWC) in float64; other
 * reductions go to the stock kernel.
 */
export function reduceLeading(
  args: Args,
  fallback: DirectKernel,
  mean: boolean,
): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  if (x.dtype !== "float32") return call(fallback, args);
  const r = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape)
    .sort((a, b) => a - b);
  const lead = axes.every((a, i) => a === i);
  if (!lead || axes.length === 0 || r === 0) return call(fallback, args);
  const kept = x.shape.slice(axes.length);
  const inner = kept.reduce((a, b) => a * b, 1);
  const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
  const outShape = attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept;
  const out = backend.makeOutput(outShape, "float32");
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  if (inner === 1) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += xv[i];
    ov[0] = mean ? s / Math.max(1, rows) : s;
    return out;
  }
  const acc = new Float64Array(inner);
  for (let row = 0, o = 0; row < rows; row++) {
    for (let c = 0; c < inner; c++, o++) acc[c] += xv[o];
  }
  const scale = mean ? 1 / Math.max(1, rows) : 1;
  for (let c = 0; c < inner; c++) ov[c] = acc[c] * scale;
  return out;
}

/** `SplitV` as slices by {@linkcode sliceFast} (the stock one calls the stock slice). */
export function splitFast(args: Args, fallback: DirectKernel): TensorInfo[] {
  const { inputs: { x }, backend, attrs } = args;
  if (!fourBytes(x.dtype)) {
    return (fallback as unknown as (a: Args) => TensorInfo[])(args);
  }
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(
    x as unknown as tf.Tensor,
    attrs.numOrSizeSplits as number | number[],
    axis,
  );
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const part = sliceFast({
      inputs: { x },
      backend,
      attrs: { begin: [...begin], size },
    }, fallback);
    begin[axis] += s;
    return part;
  });
}

/**
 * `Concat` of 4-byte tensors along any axis, copying each input's runs on
 * the heap (the stock kernel makes a subarray view for every run: ~1 ms for
 * a U-Net skip connection at 64×64).
 */
export function concatFast(args: Args, fallback: DirectKernel): TensorInfo {
  const { inputs, backend, attrs } = args;
  const list = Object.keys(inputs).sort((a, b) => Number(a) - Number(b))
    .map((k) => inputs[k]);
  const dtype = list[0]?.dtype;
  if (
    list.length < 2 || !fourBytes(dtype) || list.some((t) => t.dtype !== dtype)
  ) {
    return call(fallback, args);
  }
  const axis = tf.util.parseAxisParam(attrs.axis as number, list[0].shape)[0];
  tf.backend_util.assertParamsConsistent(list.map((t) => t.shape), axis);
  const outShape = tf.backend_util.computeOutShape(
    list.map((t) => t.shape),
    axis,
  );
  const out = backend.makeOutput(outShape, dtype);
  const total = outShape.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const rows = outShape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = list.map((t) => t.shape.slice(axis).reduce((a, b) => a * b, 1));
  const outInner = total / rows;
  const [heap, oo] = heap32(backend, out);
  let col = 0;
  list.forEach((t, k) => {
    const run = inner[k];
    if (run === 0) return;
    const [, xo] = heap32(backend, t);
    let src = xo;
    let dst = oo + col;
    const copy = copyRows(backend);
    if (copy !== null) {
      // One memory.copy a row, inside WebAssembly.
      copy(4 * src, 4 * dst, 4 * run, rows, 4 * run, 4 * outInner);
    } else if (run < 256) {
      for (let row = 0; row < rows; row++) {
        for (let i = 0; i < run; i++) heap[dst + i] = heap[src + i];
        src += run;
        dst += outInner;
      }
    } else {
      for (let row = 0; row < rows; row++) {
        heap.copyWithin(dst, src, src + run);
        src += run;
        dst += outInner;
      }
    }
    col += run;
  });
  return out;
}
