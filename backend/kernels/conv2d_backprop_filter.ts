/**
 * `Conv2DBackpropFilter` for the tfjs wasm backend, which has none (any weight
 * gradient of a convolution or transposed convolution throws without it).
 *
 * The filter gradient is itself a convolution:
 * `dW[a, b, i, o] = Σ_{n, y, x} X[n, s·y + a − pt, s·x + b − pl, i] · dY[n, y, x, o]`.
 * Take the input channels as the batch and the batch as the channels
 * (`X' = X` transposed to `[Cin, H, W, N]`), and dY as the filter
 * (`[OH, OW, N, Cout]`): a stride-1 convolution of X' with dY dilated by the
 * forward stride gives `[Cin, KH, KW, Cout]`, transposed back to the filter
 * layout. All three steps are the backend's own kernels (Transpose and the
 * XNNPACK Conv2D).
 *
 * @module
 */
import {
  checkedConvInfo,
  type ConvGradAttrs,
  explicitPad,
  kernelOf,
  release,
  type TensorInfo,
  type WasmBackendLike,
  type XnnpackDeps,
} from "./wasm_heap.ts";

/** Inputs and attributes of `Conv2DBackpropFilter` as tfjs passes them. */
interface BackpropFilterArgs {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: ConvGradAttrs & { filterShape: [number, number, number, number] };
}

/** The backend kernels the filter gradient is built on. */
export type BackpropFilterDeps = XnnpackDeps;

/** Looks up the wasm kernels `conv2DBackpropFilterWasm` needs. */
export function backpropFilterDeps(): BackpropFilterDeps {
  return {
    conv2d: kernelOf("Conv2D", "wasm"),
    transpose: kernelOf("Transpose", "wasm"),
    slice: kernelOf("Slice", "wasm"),
  };
}

/**
 * Computes `Conv2DBackpropFilter` on the wasm backend as a convolution.
 * Returns a new backend tensor of shape `attrs.filterShape`.
 */
export function conv2DBackpropFilterWasm(
  args: BackpropFilterArgs,
  deps: BackpropFilterDeps,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  if (attrs.dataFormat === "NCHW") {
    throw new Error(
      "Conv2DBackpropFilter (p2p wasm): dataFormat 'NCHW' is not supported, expected 'NHWC'",
    );
  }
  const info = checkedConvInfo(
    "Conv2DBackpropFilter",
    x.shape as [number, number, number, number],
    attrs.filterShape,
    dy,
    attrs,
  );
  const [n, outH, outW] = dy.shape;
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const { inHeight: h, inWidth: w, inChannels: inC } = info;
  const { top, left } = info.padInfo;
  // Padding after that makes the output exactly kh × kw; negative means the
  // forward convolution never read the last rows/columns: drop them.
  const bottom = kh + (outH - 1) * sh - h - top;
  const right = kw + (outW - 1) * sw - w - left;
  const cropped = bottom < 0 || right < 0
    ? deps.slice({
      inputs: { x },
      backend,
      attrs: {
        begin: [0, 0, 0, 0],
        size: [n, h + Math.min(0, bottom), w + Math.min(0, right), inC],
      },
    })
    : x;
  const xT = deps.transpose({
    inputs: { x: cropped },
    backend,
    attrs: { perm: [3, 1, 2, 0] },
  });
  if (cropped !== x) release(backend, cropped);
  const dyT = deps.transpose({
    inputs: { x: dy },
    backend,
    attrs: { perm: [1, 2, 0, 3] },
  });
  const grad = deps.conv2d({
    inputs: { x: xT, filter: dyT },
    backend,
    attrs: {
      strides: [1, 1],
      dilations: [sh, sw],
      pad: explicitPad(top, Math.max(0, bottom), left, Math.max(0, right)),
      dataFormat: "NHWC",
      dimRoundingMode: undefined,
    },
  });
  release(backend, xT, dyT);
  const out = deps.transpose({
    inputs: { x: grad },
    backend,
    attrs: { perm: [1, 2, 0, 3] },
  });
  release(backend, grad);
  return out;
}
