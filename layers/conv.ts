/**
 * 2-D convolution and transposed convolution with PyTorch-style integer
 * padding and the reference initialisation.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { convInitializer } from "./init.ts";

/** A symbolic tensor of a tfjs functional model under construction. */
export type SymbolicTensor = tf.SymbolicTensor;

/** Options of {@linkcode conv} and {@linkcode convTranspose}. */
export interface ConvOptions {
  /** Output channels. */
  filters: number;
  /** Square kernel side. @default 4 */
  kernelSize?: number;
  /** Stride. @default 2 */
  strides?: number;
  /**
   * Zero padding on each side, as PyTorch's `padding`, or tfjs `"same"` /
   * `"valid"`. A 4×4 stride-2 padding-1 convolution is computed as `"same"`
   * (identical for even sizes, and for every size when transposed).
   * @default 1
   */
  padding?: number | "same" | "valid";
  /** Whether the layer has a bias. @default true */
  bias?: boolean;
  /** Seed of the N(0, 0.02) weight initialiser. @default 0 */
  seed?: number;
  /** Layer name; a padding layer is named `<name>_pad`. @default generated */
  name?: string;
}

function checkFilters(options: ConvOptions): void {
  if (!Number.isInteger(options.filters) || options.filters < 1) {
    throw new RangeError(
      `conv filters must be a positive integer, received ${options.filters} (layer ${
        options.name ?? "unnamed"
      })`,
    );
  }
}

/** Applies a convolution (PyTorch `nn.Conv2d` semantics) to `x`. */
export function conv(x: SymbolicTensor, options: ConvOptions): SymbolicTensor {
  checkFilters(options);
  const k = options.kernelSize ?? 4;
  const s = options.strides ?? 2;
  const p = options.padding ?? 1;
  let padding: "same" | "valid";
  let input = x;
  if (typeof p === "string") padding = p;
  else if (p === 0) padding = "valid";
  else if (k === 4 && s === 2 && p === 1) padding = "same";
  else {
    padding = "valid";
    input = tf.layers.zeroPadding2d({
      padding: p,
      name: options.name ? `${options.name}_pad` : undefined,
    }).apply(x) as SymbolicTensor;
  }
  return withLazyGradients(tf.layers.conv2d({
    filters: options.filters,
    kernelSize: k,
    strides: s,
    padding,
    useBias: options.bias ?? true,
    kernelInitializer: convInitializer(options.seed ?? 0),
    biasInitializer: "zeros",
    name: options.name,
  })).apply(input) as SymbolicTensor;
}

/** Options of {@linkcode convTranspose}. */
export interface ConvTransposeOptions extends ConvOptions {
  /** Extra rows and columns added at the bottom and right, as PyTorch's `output_padding`. @default 0 */
  outputPadding?: number;
}

/**
 * Applies a transposed convolution (PyTorch `nn.ConvTranspose2d` semantics:
 * output side `(in - 1)·stride - 2·padding + kernel + outputPadding`).
 */
export function convTranspose(
  x: SymbolicTensor,
  options: ConvTransposeOptions,
): SymbolicTensor {
  checkFilters(options);
  const k = options.kernelSize ?? 4;
  const s = options.strides ?? 2;
  const p = options.padding ?? 1;
  const op = options.outputPadding ?? 0;
  const base = {
    filters: options.filters,
    kernelSize: k,
    strides: s,
    useBias: options.bias ?? true,
    kernelInitializer: convInitializer(options.seed ?? 0),
    biasInitializer: "zeros" as const,
    name: options.name,
  };
  if (typeof p === "string") {
    return tf.layers.conv2dTranspose({ ...base, padding: p }).apply(
      x,
    ) as SymbolicTensor;
  }
  if (k === 4 && s === 2 && p === 1 && op === 0) {
    return tf.layers.conv2dTranspose({ ...base, padding: "same" }).apply(
      x,
    ) as SymbolicTensor;
  }
  // Full ("valid") transposed conv, then crop `p` from the top/left and `p - op` from the bottom/right.
  const y = tf.layers.conv2dTranspose({ ...base, padding: "valid" }).apply(
    x,
  ) as SymbolicTensor;
  const end = p - op;
  if (end < 0) {
    throw new RangeError(
      `convTranspose outputPadding ${op} must not exceed padding ${p}`,
    );
  }
  if (p === 0 && end === 0) return y;
  return tf.layers.cropping2D({
    cropping: [[p, end], [p, end]],
    name: options.name ? `${options.name}_crop` : undefined,
  }).apply(y) as SymbolicTensor;
}

/** The parts of a tfjs-layers `Conv2D` that {@linkcode withLazyGradients} reads. */
interface Conv2DInternals {
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  activation: { getClassName(): string } | null;
}

/**
 * A lazy gradient for the `FusedConv2D` kernel (linear activation, NHWC, no
 * dilation), which tfjs-core leaves unregistered: `tf.fused.conv2d` records
 * its own `customGrad`, which computes dx, dW and dBias eagerly. Each input's
 * gradient here is a closure, so backprop computes only those on the path
 * to the differentiated variables. The closures are the ops of that
 * `customGrad` (tfjs's `Conv2D` gradient, then the bias sum), so the values
 * are the same, and they are differentiable again (the gradient penalty).
 * Registered once; kernels run inside `tf.fused.conv2d` are not recorded
 * on the tape, so it does not change that op.
 */
function registerFusedConv2DGradient(): void {
  if (tf.getGradient("FusedConv2D") != null) return;
  const conv2DGrad = tf.getGradient("Conv2D");
  tf.registerGradient({
    kernelName: "FusedConv2D",
    inputsToSave: ["x", "filter"],
    gradFunc: (
      dy: tf.Tensor | tf.Tensor[],
      saved: tf.Tensor[],
      attrs: tf.NamedAttrMap,
    ) => {
      const g = dy as tf.Tensor4D;
      if (attrs.activation !== "linear" || attrs.dataFormat !== "NHWC") {
        throw new Error(
          `FusedConv2D gradient (p2p): only a linear NHWC convolution, received ${attrs.activation} ${attrs.dataFormat}`,
        );
      }
      const grads = conv2DGrad.gradFunc(g, saved, attrs);
      return {
        ...grads,
        bias: () => tf.sum(g, [0, 1, 2]),
      };
    },
  });
}

/**
 * Makes a tfjs-layers `Conv2D` (linear activation, channels last, no
 * dilation, as {@linkcode conv} builds it) run its `FusedConv2D` kernel
 * directly while a gradient is being recorded, instead of through
 * `tf.fused.conv2d`, whose `customGrad` computes dx, dW and dBias even where
 * backprop does not need them (the frozen discriminator's filter gradients
 * in the generator phase, the first layer's input gradient). The kernel and
 * its attributes are those `tf.fused.conv2d` passes, so the forward values
 * are identical on every backend; with no gradient recorded the layer's own
 * call is kept. The layer still serialises as a plain `Conv2D`.
 */
function withLazyGradients(layer: tf.layers.Layer): tf.layers.Layer {
  registerFusedConv2DGradient();
  const fusedCall = layer.call.bind(layer);
  const c = layer as unknown as Conv2DInternals;
  layer.call = (inputs, kwargs) => {
    const dilation = typeof c.dilationRate === "number"
      ? [c.dilationRate]
      : c.dilationRate;
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
    const direct = tf.engine().state.gradientDepth > 0 &&
      (Array.isArray(inputs) ? inputs.length === 1 : true) && x.rank === 4 &&
      x.dtype === "float32" &&
      c.dataFormat === "channelsLast" &&
      dilation.every((d) => d === 1) &&
      (c.activation === null || c.activation.getClassName() === "linear") &&
      (c.padding === "same" || c.padding === "valid");
    if (!direct) return fusedCall(inputs, kwargs);
    const kernelInputs: tf.NamedTensorMap = { x, filter: c.kernel.read() };
    if (c.bias !== null) kernelInputs.bias = c.bias.read();
    return tf.engine().runKernel("FusedConv2D", kernelInputs, {
      strides: c.strides,
      pad: c.padding,
      dataFormat: "NHWC",
      dilations: [1, 1],
      dimRoundingMode: undefined,
      activation: "linear",
      leakyreluAlpha: undefined,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
  };
  return layer;
}
