import * as tf from "@tensorflow/tfjs";
import { probeGpu, selectBackend } from "../select_backend.ts";
import {
  assertClose,
  randn,
  runOnBackend,
  useWebGpuKernels,
} from "./test_util.ts";
import { BATCH_NORM_TRAIN } from "./wasm/batch_norm_train.ts";
import { BATCH_NORM_TRAIN_GRAD } from "./wasm/batch_norm_train_grad.ts";

tf.enableProdMode();

const gpu = await probeGpu();

/** Odd shapes: batch > 1, one channel, non-square, C not a multiple of 4, rank 2, long rows. */
const SHAPES: number[][] = [
  [2, 3, 5, 1],
  [1, 4, 6, 3],
  [3, 5, 2, 7],
  [6, 9],
  [1, 32, 33, 5],
];

/** Both kernels on `shape`: forward with moving statistics, then the gradient. */
function kernels(shape: number[]): () => tf.Tensor[] {
  return () => {
    const c = shape[shape.length - 1];
    const x = tf.add(randn(shape, 1), 2);
    const gamma = tf.add(randn([c], 2), 1);
    const beta = randn([c], 3);
    const fwd = tf.engine().runKernel(BATCH_NORM_TRAIN, {
      x,
      gamma,
      beta,
      movingMean: randn([c], 4),
      movingVariance: tf.abs(randn([c], 5)),
    }, { epsilon: 1e-5, momentum: 0.9 }) as tf.Tensor[];
    const grad = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, {
      dy: randn(shape, 6),
      x,
      gamma,
      mean: fwd[1],
      variance: fwd[2],
      dmean: randn([c], 7),
      dvariance: randn([c], 8),
    }, { epsilon: 1e-5 }) as tf.Tensor[];
    return [...fwd, ...grad];
  };
}

Deno.test({
  name:
    "P2pBatchNormTrain and P2pBatchNormTrainGrad: the WebGPU kernels = the wasm kernels on odd shapes",
  ignore: gpu.adapter === null,
  fn: async () => {
    await selectBackend({ backend: "wasm", log: null });
    await useWebGpuKernels();
    for (const shape of SHAPES) {
      const expected = await runOnBackend("wasm", kernels(shape));
      const actual = await runOnBackend("webgpu", kernels(shape));
      assertClose(actual, expected, 1e-4, `[${shape}] webgpu vs wasm`);
    }
  },
});
