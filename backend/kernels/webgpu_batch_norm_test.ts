import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu, selectBackend } from "../select_backend.ts";
import {
  assertClose,
  randn,
  runOnBackend,
  useWebGpuKernels,
} from "./test_util.ts";
import { BATCH_NORM_TRAIN } from "./wasm/batch_norm_train.ts";
import {
  ChannelReduceProgram,
  reduceThreads,
} from "./webgpu_batch_norm_programs.ts";
import { reduceUniforms } from "./webgpu_batch_norm_train.ts";
import type { WebGpuBackendLike } from "./webgpu_program.ts";
import { BATCH_NORM_TRAIN_GRAD } from "./wasm/batch_norm_train_grad.ts";

tf.enableProdMode();

const gpu = await probeGpu();

/** Odd shapes: batch > 1, one channel, non-square, C not a multiple of 4, rank 2, long rows, one row, 9 rows. */
const SHAPES: number[][] = [
  [2, 3, 5, 1],
  [1, 4, 6, 3],
  [3, 5, 2, 7],
  [6, 9],
  [1, 32, 33, 5],
  [1, 1, 1, 6],
  [1, 3, 3, 4],
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

Deno.test("reduceThreads: a power of two from 8 to 256, at or above the rows", () => {
  assert.deepEqual([1, 8, 9, 64, 65, 256, 257, 4096].map(reduceThreads), [
    8,
    8,
    16,
    64,
    128,
    256,
    256,
    256,
  ]);
});

Deno.test({
  name:
    "ChannelReduceProgram: as many invocations as rows sums bit for bit as 256 do",
  ignore: gpu.adapter === null,
  fn: async () => {
    await useWebGpuKernels();
    for (const [rows, channels] of [[1, 3], [9, 5], [60, 256], [100, 7]]) {
      const sums = (sized: boolean) => () => {
        const x = randn([rows, channels], 1);
        const backend = tf.backend() as unknown as WebGpuBackendLike;
        return (["sum", "mean"] as const).map((what) =>
          tf.engine().makeTensorFromTensorInfo(
            backend.runWebGPUProgram(
              new ChannelReduceProgram(
                channels,
                what,
                sized ? rows : Infinity,
              ),
              [x],
              "float32",
              reduceUniforms(rows, channels, 1e-5),
            ),
          )
        );
      };
      const sized = await runOnBackend("webgpu", sums(true));
      const wide = await runOnBackend("webgpu", sums(false));
      assert.deepEqual(sized, wide, `${rows} rows × ${channels}`);
    }
  },
});
