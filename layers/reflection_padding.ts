/**
 * Reflection padding, as PyTorch's `nn.ReflectionPad2d`, used by the ResNet
 * generator.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { ConfigDict, Layer, Shape, Tensor } from "./types.ts";

/** Options of {@linkcode ReflectionPadding2D}. */
export interface ReflectionPadding2DOptions {
  /** Pixels added on each side of height and width. @default 1 */
  padding?: number;
  /** Layer name. @default generated */
  name?: string;
}

/** Pads height and width by reflecting the border (NHWC). */
export class ReflectionPadding2D extends tf.layers.Layer {
  /** Name used by tfjs serialization. */
  static className = "ReflectionPadding2D";
  /** Pixels added on each side. */
  readonly padding: number;

  /** Creates the layer. */
  constructor(options: ReflectionPadding2DOptions = {}) {
    super({ name: options.name });
    this.padding = options.padding ?? 1;
    if (!Number.isInteger(this.padding) || this.padding < 0) {
      throw new RangeError(
        `ReflectionPadding2D padding must be a non-negative integer, received ${this.padding}`,
      );
    }
  }

  /** Output shape: height and width grow by twice the padding. */
  override computeOutputShape(shape: Shape | Shape[]): Shape {
    const s = (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
    const p = 2 * this.padding;
    return [
      s[0],
      s[1] == null ? null : s[1] + p,
      s[2] == null ? null : s[2] + p,
      s[3],
    ];
  }

  /** Pads the input. */
  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const p = this.padding;
    return tf.mirrorPad(x, [[0, 0], [p, p], [p, p], [0, 0]], "reflect");
  }

  /** Serializable configuration. */
  override getConfig(): ConfigDict {
    return { ...super.getConfig(), padding: this.padding };
  }
}
tf.serialization.registerClass(ReflectionPadding2D);

/** Creates a {@linkcode ReflectionPadding2D} layer. */
export function reflectionPadding2d(
  options: ReflectionPadding2DOptions = {},
): Layer {
  return new ReflectionPadding2D(options);
}
