/**
 * The optimizer of both networks: tfjs's Adam, whose update is one fused
 * kernel per variable where the backend has p2p's `P2pAdamUpdate` kernel
 * registered (`@p2p/backend` registers it on wasm and WebGPU), and plain `tf.train.adam`
 * math elsewhere. The optimizer owns its state: {@linkcode Adam.setLearningRate},
 * {@linkcode Adam.exportState} and {@linkcode Adam.importState} are the only
 * code in p2p that touches tfjs's private Adam fields.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tensor, Variable } from "@p2p/layers";

/** Name of the fused update kernel (registered by `@p2p/backend` on wasm and WebGPU). */
export const ADAM_UPDATE_KERNEL = "P2pAdamUpdate";

/** tfjs's Adam optimizer (an alias of `tf.AdamOptimizer`). */
export type AdamOptimizer = tf.AdamOptimizer;

/** The state of one Adam optimizer, its moments keyed by weight name. */
export interface AdamState {
  /** Steps taken. */
  iterations: number;
  /** β1^(iterations+1), exactly as the optimizer held it. */
  accBeta1: number;
  /** β2^(iterations+1), exactly as the optimizer held it. */
  accBeta2: number;
  /** First moments by weight name (empty before the first step). */
  m: Map<string, Tensor>;
  /** Second moments by weight name. */
  v: Map<string, Tensor>;
}

/** A trainable weight as the optimizer sees it. */
export interface OptimizedWeight {
  /** The weight's name in its model (e.g. `e1_conv/kernel`), as checkpoints key it. */
  name: string;
  /** The variable the optimizer updates. */
  variable: Variable;
}

type GradientsArg = Parameters<tf.AdamOptimizer["applyGradients"]>[0];
type Slot = { originalName: string; variable: tf.Variable };

/** tfjs's private Adam fields, known only to this file. */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  incrementIterations(): void;
}

/** Options of {@linkcode createAdam}. */
export interface AdamOptions {
  /** Learning rate. @default 0.0002 */
  lr?: number;
  /** β1. @default 0.5 */
  beta1?: number;
  /** β2. @default 0.999 */
  beta2?: number;
  /** ε, PyTorch's default. @default 1e-8 */
  epsilon?: number;
}

/** tfjs's Adam that owns its state: see the module doc. */
export interface Adam extends AdamOptimizer {
  /** The learning rate in force. */
  readonly lr: number;
  /** Sets the learning rate of the following steps. */
  setLearningRate(lr: number): void;
  /**
   * The state, with moments keyed by `weights[i].name` in the order the
   * optimizer received them. The moment tensors are the optimizer's own
   * variables: read them before the next step and do not dispose them.
   */
  exportState(weights: readonly OptimizedWeight[]): Promise<AdamState>;
  /**
   * Puts `state` into this optimizer, which must not have taken a step,
   * matching moments to `weights` by name; `what` names the optimizer in
   * errors. Does not dispose `state`.
   */
  importState(
    state: AdamState,
    weights: readonly OptimizedWeight[],
    what?: string,
  ): Promise<void>;
}

/**
 * Adam with PyTorch's defaults for pix2pix and its state in the open.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { createAdam } from "@p2p/train";
 *
 * const w = tf.variable(tf.ones([2]));
 * const adam = createAdam({ lr: 0.1 });
 * adam.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
 * adam.setLearningRate(0.05);
 * const state = await adam.exportState([{ name: "w", variable: w }]);
 * console.log(state.iterations, w.dataSync()[0] < 1); // 1 true
 * ```
 */
export function createAdam(options: AdamOptions = {}): Adam {
  return new P2pAdam(options);
}

class P2pAdam extends tf.AdamOptimizer implements Adam {
  /**
   * β1ᵗ⁺¹ and β2ᵗ⁺¹ as float32 numbers, mirroring the `accBeta` variables so
   * that a step reads no tensor back (a GPU round trip on WebGPU, where
   * synchronous reads are not possible under Deno).
   */
  private powers: [number, number];

  constructor(options: AdamOptions) {
    super(
      options.lr ?? 2e-4,
      options.beta1 ?? 0.5,
      options.beta2 ?? 0.999,
      options.epsilon ?? 1e-8,
    );
    // tfjs starts both products at β (tf.scalar: float32).
    this.powers = [Math.fround(this.beta1), Math.fround(this.beta2)];
  }

  private get internals(): AdamInternals {
    return this as unknown as AdamInternals;
  }

  /** The learning rate in force. */
  get lr(): number {
    return this.internals.learningRate;
  }

  /** Sets the learning rate of the following steps. */
  setLearningRate(lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) {
      throw new RangeError(
        `learning rate must be a number ≥ 0, received ${lr}`,
      );
    }
    this.internals.learningRate = lr;
  }

  /** Applies one Adam step (one fused kernel per variable where registered). */
  override applyGradients(variableGradients: GradientsArg): void {
    if (tf.getKernel(ADAM_UPDATE_KERNEL, tf.getBackend()) == null) {
      super.applyGradients(variableGradients);
      this.advancePowers();
      return;
    }
    const self = this.internals;
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const c1 = 1 - this.powers[0];
    const c2 = 1 - this.powers[1];
    const attrs = {
      lr: self.learningRate,
      beta1: self.beta1,
      beta2: self.beta2,
      epsilon: self.epsilon,
      c1,
      c2,
      // The variables take the outputs at once: the kernel may overwrite them.
      inPlace: true,
    };
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      const zeros = (suffix: string): Slot => ({
        originalName: `${name}/${suffix}`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      });
      self.accumulatedFirstMoment[i] ??= zeros("m");
      self.accumulatedSecondMoment[i] ??= zeros("v");
      const grad = Array.isArray(variableGradients)
        ? variableGradients[i].tensor
        : variableGradients[name];
      if (grad == null) return;
      const m = self.accumulatedFirstMoment[i].variable;
      const v = self.accumulatedSecondMoment[i].variable;
      const [p1, m1, v1] = tf.engine().runKernel(
        ADAM_UPDATE_KERNEL,
        { value, m, v, grad },
        attrs,
      ) as tf.Tensor[];
      // In place (inPlace): an output may be its input's own memory.
      if (m1.dataId !== m.dataId) m.assign(m1);
      if (v1.dataId !== v.dataId) v.assign(v1);
      if (p1.dataId !== value.dataId) value.assign(p1);
      tf.dispose([p1, m1, v1]);
    });
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    this.advancePowers();
    self.incrementIterations();
  }

  /**
   * Multiplies the mirrored β powers by β as the step did the variables: the
   * same float32 products as tf.mul's (a product of two float32 values is
   * exact in a double, so rounding it once is float32 multiplication).
   */
  private advancePowers(): void {
    const [p1, p2] = this.powers;
    this.powers = [
      Math.fround(p1 * Math.fround(this.beta1)),
      Math.fround(p2 * Math.fround(this.beta2)),
    ];
  }

  /** tfjs's `setWeights`, then reads the β powers it set back. */
  override async setWeights(
    weightValues: Parameters<tf.AdamOptimizer["setWeights"]>[0],
  ): Promise<void> {
    await super.setWeights(weightValues);
    const o = this.internals;
    const [b1, b2] = await Promise.all([o.accBeta1.data(), o.accBeta2.data()]);
    this.powers = [b1[0], b2[0]];
  }

  async exportState(weights: readonly OptimizedWeight[]): Promise<AdamState> {
    const o = this.internals;
    const m = o.accumulatedFirstMoment;
    const v = o.accumulatedSecondMoment;
    if (
      m.length !== 0 &&
      (m.length !== weights.length || v.length !== weights.length)
    ) {
      throw new Error(
        `Adam.exportState: the optimizer holds ${m.length} slots but ${weights.length} weights were named; was it used with another model?`,
      );
    }
    const [b1, b2] = await Promise.all([o.accBeta1.data(), o.accBeta2.data()]);
    return {
      iterations: this.iterations,
      accBeta1: b1[0],
      accBeta2: b2[0],
      m: new Map(m.map((slot, i) => [weights[i].name, slot.variable])),
      v: new Map(v.map((slot, i) => [weights[i].name, slot.variable])),
    };
  }

  async importState(
    state: AdamState,
    weights: readonly OptimizedWeight[],
    what = "optimizer",
  ): Promise<void> {
    const o = this.internals;
    if (o.accumulatedFirstMoment.length !== 0) {
      throw new Error(`Adam.importState: the ${what} has already taken steps`);
    }
    if (state.m.size === 0) {
      // Saved before the first step: nothing but the counters.
      if (state.iterations !== 0) {
        throw new Error(
          `optimizer state of the ${what}: ${state.iterations} iterations but no moments`,
        );
      }
      return;
    }
    const ms: { name: string; tensor: tf.Tensor }[] = [];
    const vs: { name: string; tensor: tf.Tensor }[] = [];
    for (const { name, variable } of weights) {
      const m = state.m.get(name);
      const v = state.v.get(name);
      if (!m || !v) {
        throw new Error(
          `optimizer state of the ${what}: no Adam moments for weight ${name}`,
        );
      }
      if (!tf.util.arraysEqual(m.shape, variable.shape)) {
        throw new Error(
          `optimizer state of the ${what}: moments of ${name} have shape [${m.shape}], the weight has [${variable.shape}]`,
        );
      }
      ms.push({ name: `${variable.name}/m`, tensor: m });
      vs.push({ name: `${variable.name}/v`, tensor: v });
    }
    const iter = tf.scalar(state.iterations, "int32");
    await this.setWeights([{ name: "iter", tensor: iter }, ...ms, ...vs]);
    iter.dispose();
    // setWeights recomputes β^(t+1) with pow; restore the exact running products.
    tf.tidy(() => {
      o.accBeta1.assign(tf.scalar(state.accBeta1));
      o.accBeta2.assign(tf.scalar(state.accBeta2));
    });
    this.powers = [Math.fround(state.accBeta1), Math.fround(state.accBeta2)];
  }
}

/** The weights `optimizer` trains in `model`, named as checkpoints name them. */
export function optimizedWeights(
  model: { trainableWeights: { originalName: string; read(): Tensor }[] },
): OptimizedWeight[] {
  return model.trainableWeights.map((w) => ({
    name: w.originalName,
    variable: w.read() as tf.Variable,
  }));
}
