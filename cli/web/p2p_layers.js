// p2p's custom tfjs layers, for a plain tfjs in the browser. A batch-norm
// U-Net exported by `deno task export --format tfjs` needs none of them (its
// dropout is written as a standard Dropout); ResNet generators need
// ReflectionPadding2D, instance-norm models InstanceNormalization. Call
// registerP2pLayers(tf) once before tf.loadLayersModel.

/** Registers ReflectionPadding2D and InstanceNormalization with `tf`. */
export function registerP2pLayers(tf) {
  class ReflectionPadding2D extends tf.layers.Layer {
    static className = "ReflectionPadding2D";
    constructor(config = {}) {
      super(config);
      this.padding = config.padding ?? 1;
    }
    computeOutputShape(shape) {
      const s = Array.isArray(shape[0]) ? shape[0] : shape;
      const p = 2 * this.padding;
      return [
        s[0],
        s[1] == null ? null : s[1] + p,
        s[2] == null ? null : s[2] + p,
        s[3],
      ];
    }
    call(inputs) {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const p = this.padding;
      return tf.mirrorPad(x, [[0, 0], [p, p], [p, p], [0, 0]], "reflect");
    }
    getConfig() {
      return { ...super.getConfig(), padding: this.padding };
    }
  }
  class InstanceNormalization extends tf.layers.Layer {
    static className = "InstanceNormalization";
    constructor(config = {}) {
      super(config);
      this.epsilon = config.epsilon ?? 1e-5;
    }
    call(inputs) {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const { mean, variance } = tf.moments(x, [1, 2], true);
        return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.epsilon)));
      });
    }
    getConfig() {
      return { ...super.getConfig(), epsilon: this.epsilon };
    }
  }
  tf.serialization.registerClass(ReflectionPadding2D);
  tf.serialization.registerClass(InstanceNormalization);
}
