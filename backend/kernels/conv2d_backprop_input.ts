/**
 * A fast `Conv2DBackpropInput` for the tfjs wasm backend: the input gradient of
 * a convolution, which is also the forward pass of a transposed convolution.
 *
 * tfjs-wasm computes it with a plain loop that neither XNNPACK nor threads
 * speed up. Here it is split by output phase (the sub-pixel decomposition):
 * for stride `s`, the outputs whose row is congruent to `r` modulo `s` only
 * see the filter rows `r, r + s, r + 2s, …`, so each of the `s²` phases is a
 * stride-1 convolution of `dy` with a small flipped sub-filter, run on the
 * backend's own (XNNPACK) `Conv2D` kernel, and the phases are interleaved
 * into the result. A stride-2 4×4 transposed convolution becomes four 2×2
 * stride-1 convolutions; a stride-1 input gradient is one convolution with the
 * flipped filter. Shapes this does not handle (channels-first data) go to the
 * stock kernel.
 *
 * @module
 */
import {
  checkedConvInfo,
  type ConvGradAttrs,
  type DirectKernel,
  explicitPad,
  heapF32,
  kernelOf,
  release,
  type TensorInfo,
  type WasmBackendLike,
  type XnnpackDeps,
} from "./wasm_heap.ts";

/** The phase plan along one spatial dimension. */
interface AxisPhase {
  /** Residue of (output index + pad) modulo the stride. */
  r: number;
  /** Filter taps in this phase (`ceil((k - r) / s)`). */
  taps: number;
  /** First phase index q (output index = s·q + r − pad). */
  qMin: number;
  /** Number of outputs in this phase. */
  count: number;
  /** First row of dy read (may be negative: zero padding). */
  dyStart: number;
}

function axisPhases(
  k: number,
  s: number,
  pad: number,
  size: number,
): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let r = 0; r < s; r++) {
    const taps = r < k ? Math.ceil((k - r) / s) : 0;
    const qMin = Math.ceil((pad - r) / s);
    const qMax = Math.floor((size - 1 + pad - r) / s);
    const count = Math.max(0, qMax - qMin + 1);
    phases.push({ r, taps, qMin, count, dyStart: qMin - (taps - 1) });
  }
  return phases;
}

/** Inputs and attributes of `Conv2DBackpropInput` as tfjs passes them. */
interface BackpropInputArgs {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: WasmBackendLike;
  attrs: ConvGradAttrs & { inputShape: [number, number, number, number] };
}

/** The backend kernels the fast kernel is built on, looked up once. */
export interface BackpropInputDeps extends XnnpackDeps {
  /** The stock Conv2DBackpropInput, for what the fast path does not cover. */
  fallback: DirectKernel;
}

/** Looks up the wasm kernels `conv2DBackpropInputFast` needs (call after registering nothing over them). */
export function backpropInputDeps(fallback: DirectKernel): BackpropInputDeps {
  return {
    conv2d: kernelOf("Conv2D", "wasm"),
    transpose: kernelOf("Transpose", "wasm"),
    slice: kernelOf("Slice", "wasm"),
    fallback,
  };
}

/**
 * Computes `Conv2DBackpropInput` on the wasm backend by the sub-pixel split.
 * Returns a new backend tensor of shape `attrs.inputShape`.
 */
export function conv2DBackpropInputFast(
  args: BackpropInputArgs,
  deps: BackpropInputDeps,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  if (attrs.dataFormat === "NCHW") {
    return deps.fallback(args as unknown as Parameters<DirectKernel>[0]);
  }
  const info = checkedConvInfo(
    "Conv2DBackpropInput",
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    dy,
    attrs,
  );
  const [n, , , outC] = dy.shape;
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const { inHeight: h, inWidth: w, inChannels: inC } = info;
  const rows = axisPhases(kh, sh, info.padInfo.top, h);
  const cols = axisPhases(kw, sw, info.padInfo.left, w);
  const conv = (
    x: TensorInfo,
    f: TensorInfo,
    pad: [number, number, number, number],
  ): TensorInfo =>
    deps.conv2d({
      inputs: { x, filter: f },
      backend,
      attrs: {
        strides: [1, 1],
        dilations: [1, 1],
        pad: explicitPad(pad[0], pad[1], pad[2], pad[3]),
        dataFormat: "NHWC",
        dimRoundingMode: undefined,
      },
    });

  // Filter [kh, kw, inC, outC] -> [kh, kw, outC, inC]: the gradient convolution
  // maps dy's channels (outC) to the input's (inC).
  const swapped = deps.transpose({
    inputs: { x: filter },
    backend,
    attrs: { perm: [0, 1, 3, 2] },
  });
  const block = inC * outC;

  // One phase covering everything (stride 1): the convolution is the result.
  if (sh === 1 && sw === 1) {
    const flipped = backend.makeOutput([kh, kw, outC, inC], "float32");
    {
      const src = heapF32(backend, swapped);
      const dst = heapF32(backend, flipped);
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * block;
          dst.set(src.subarray(from, from + block), (i * kw + j) * block);
        }
      }
    }
    release(backend, swapped);
    const p = rows[0], q = cols[0];
    const out = convWindow(
      backend,
      deps,
      dy,
      flipped,
      p,
      q,
      conv,
    );
    release(backend, flipped);
    return out;
  }

  const dx = backend.makeOutput([n, h, w, inC], "float32");
  const complete = rows.every((p) => p.taps > 0) &&
    cols.every((p) => p.taps > 0);
  if (!complete) heapF32(backend, dx).fill(0);
  for (const p of rows) {
    if (p.count === 0) continue;
    for (const q of cols) {
      if (q.count === 0 || p.taps === 0 || q.taps === 0) continue;
      // Sub-filter of this phase, flipped: tap (t, u) is filter row
      // r + (taps - 1 - t)·s, column c + (taps - 1 - u)·s.
      const sub = backend.makeOutput([p.taps, q.taps, outC, inC], "float32");
      {
        const src = heapF32(backend, swapped);
        const dst = heapF32(backend, sub);
        for (let t = 0; t < p.taps; t++) {
          const fr = p.r + (p.taps - 1 - t) * sh;
          for (let u = 0; u < q.taps; u++) {
            const fc = q.r + (q.taps - 1 - u) * sw;
            const from = (fr * kw + fc) * block;
            dst.set(src.subarray(from, from + block), (t * q.taps + u) * block);
          }
        }
      }
      const part = convWindow(backend, deps, dy, sub, p, q, conv);
      release(backend, sub);
      // Interleave: part[b, i, j, :] -> dx[b, s·(qMin+i) + r − pad, …, :].
      const src = heapF32(backend, part);
      const dst = heapF32(backend, dx);
      const row0 = sh * p.qMin + p.r - info.padInfo.top;
      const col0 = sw * q.qMin + q.r - info.padInfo.left;
      let k = 0;
      for (let b = 0; b < n; b++) {
        for (let i = 0; i < p.count; i++) {
          let d = ((b * h + row0 + i * sh) * w + col0) * inC;
          const step = (sw - 1) * inC;
          for (let j = 0; j < q.count; j++) {
            for (let c = 0; c < inC; c++) dst[d++] = src[k++];
            d += step;
          }
        }
      }
      release(backend, part);
    }
  }
  release(backend, swapped);
  return dx;
}

/**
 * Convolves the window of `dy` a phase reads (rows `p.dyStart …`, `p.count`
 * outputs) with `sub` at stride 1: zero padding where the window leaves dy,
 * a slice where it uses only part of dy.
 */
function convWindow(
  backend: WasmBackendLike,
  deps: BackpropInputDeps,
  dy: TensorInfo,
  sub: TensorInfo,
  p: AxisPhase,
  q: AxisPhase,
  conv: (
    x: TensorInfo,
    f: TensorInfo,
    pad: [number, number, number, number],
  ) => TensorInfo,
): TensorInfo {
  const [n, outH, outW, outC] = dy.shape;
  const [padTop, rowBegin, rowEnd, padBottom] = window1d(p, outH);
  const [padLeft, colBegin, colEnd, padRight] = window1d(q, outW);
  if (rowEnd <= rowBegin || colEnd <= colBegin) {
    // The phase reads only padding: its outputs are zero.
    const zero = backend.makeOutput(
      [n, p.count, q.count, sub.shape[3]],
      "float32",
    );
    heapF32(backend, zero).fill(0);
    return zero;
  }
  const whole = rowBegin === 0 && rowEnd === outH && colBegin === 0 &&
    colEnd === outW;
  const x = whole ? dy : deps.slice({
    inputs: { x: dy },
    backend,
    attrs: {
      begin: [0, rowBegin, colBegin, 0],
      size: [n, rowEnd - rowBegin, colEnd - colBegin, outC],
    },
  });
  const out = conv(x, sub, [padTop, padBottom, padLeft, padRight]);
  if (!whole) release(backend, x);
  return out;
}

/** [pad before, first row, end row, pad after] of the dy window a phase reads. */
function window1d(
  p: AxisPhase,
  size: number,
): [number, number, number, number] {
  const last = p.dyStart + p.count + p.taps - 2; // last dy row read
  const begin = Math.max(0, p.dyStart);
  const end = Math.min(size, last + 1);
  return [Math.max(0, -p.dyStart), begin, end, Math.max(0, last - (size - 1))];
}
