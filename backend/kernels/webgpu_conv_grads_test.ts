import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu } from "../select_backend.ts";
import {
  CONV_CASES,
  type ConvCase,
  FEW_OUTPUT_CHANNEL_CASES,
} from "./conv_cases.ts";
import {
  assertClose,
  randn,
  runOnBackend,
  useWebGpuKernels,
} from "./test_util.ts";
import { setFilterGradPath, splitK } from "./webgpu_conv2d_backprop_filter.ts";
import {
  inputGradPath,
  setInputGradPath,
} from "./webgpu_conv2d_backprop_input.ts";
import { webGpuKernelsRegistered } from "../webgpu_kernels.ts";
import { setRegisterProducts } from "./webgpu_register_product.ts";

tf.enableProdMode();

/** Cases beyond the shared ones: more than one tile of each dimension, and split K. */
const WEBGPU_CASES: ConvCase[] = [
  {
    name: "65 output channels, 3 tiles of rows (N, M > 64)",
    x: [2, 9, 11, 5],
    filter: [4, 4, 5, 65],
    strides: 2,
    pad: "same",
  },
  {
    name: "split K: batch 3, one channel, non-square 40x27",
    x: [3, 40, 27, 1],
    filter: [4, 4, 1, 7],
    strides: 1,
    pad: "same",
  },
  {
    name: "8 input channels (four-channel gathers), odd sides",
    x: [2, 10, 9, 8],
    filter: [4, 4, 8, 12],
    strides: 2,
    pad: "same",
  },
  {
    name: "short K (direct by default): batch 2, 2x1 output, 6 channels out",
    x: [2, 3, 2, 5],
    filter: [4, 4, 5, 6],
    strides: 2,
    pad: "same",
  },
  {
    name: "short K, vec4 channels: batch 3, 1x1 output, 1 channel in",
    x: [3, 2, 2, 1],
    filter: [4, 4, 1, 8],
    strides: 2,
    pad: "same",
  },
  {
    name: "split K, stride 2, K not a multiple of 16",
    x: [2, 61, 33, 3],
    filter: [4, 4, 3, 9],
    strides: 2,
    pad: "same",
  },
];

const gpu = await probeGpu();

function dxOf(c: ConvCase): () => tf.Tensor[] {
  return () => {
    const filter = randn(c.filter, 2) as tf.Tensor4D;
    const outShape =
      tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, filter, c.strides, c.pad).shape;
    const dy = randn(outShape, 3) as tf.Tensor4D;
    return [
      tf.engine().runKernel("Conv2DBackpropInput", { dy, filter }, {
        strides: c.strides,
        pad: c.pad,
        dataFormat: "NHWC",
        inputShape: c.x,
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
    ];
  };
}

function dwOf(c: ConvCase): () => tf.Tensor[] {
  return () => {
    const x = randn(c.x, 1) as tf.Tensor4D;
    const filter = randn(c.filter, 2) as tf.Tensor4D;
    const outShape = tf.conv2d(x, filter, c.strides, c.pad).shape;
    const dy = randn(outShape, 3) as tf.Tensor4D;
    return [
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: c.strides,
        pad: c.pad,
        dataFormat: "NHWC",
        filterShape: c.filter,
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
    ];
  };
}

Deno.test("splitK: splits only when the tiles are few and K is long", () => {
  assert.deepEqual(splitK(4 * 4 * 512, 512, 4), { splits: 1, kPerSplit: 16 });
  const first = splitK(48, 64, 128 * 128);
  assert.ok(first.splits > 1 && first.kPerSplit % 16 === 0);
  assert.ok(first.splits * first.kPerSplit >= 128 * 128);
  assert.ok((first.splits - 1) * first.kPerSplit < 128 * 128);
});

Deno.test("inputGradPath: matmul past 16 output pixels and 3 channels, phases on request, else stock", () => {
  assert.equal(inputGradPath(64 * 64, 64, false), "matmul");
  assert.equal(inputGradPath(16, 512, false), "stock");
  assert.equal(inputGradPath(196, 1, false), "stock");
  assert.equal(inputGradPath(64 * 64, 64, true), "phases");
  setRegisterProducts(true);
  try {
    assert.equal(inputGradPath(16, 512, false), "registers");
    assert.equal(inputGradPath(196, 1, false), "registers");
    assert.equal(inputGradPath(64 * 64, 64, true), "phases");
  } finally {
    setRegisterProducts(false);
  }
});

Deno.test({
  name:
    "Conv2DBackpropFilter (matmul, tiled, direct, registers) and Conv2DBackpropInput (phases, matmul, registers): p2p WebGPU kernels = cpu to 1e-4 on odd shapes",
  ignore: gpu.adapter === null,
  fn: async () => {
    await useWebGpuKernels({ backpropInput: true });
    assert.ok(
      webGpuKernelsRegistered(),
      "p2p's WebGPU kernels are not registered",
    );
    for (
      const c of [...CONV_CASES, ...FEW_OUTPUT_CHANNEL_CASES, ...WEBGPU_CASES]
    ) {
      const expected = await runOnBackend("cpu", dwOf(c));
      for (
        const path of ["matmul", "tiled", "direct", "registers"] as const
      ) {
        setFilterGradPath(path);
        try {
          const actual = await runOnBackend("webgpu", dwOf(c));
          assertClose(actual, expected, 1e-4, `dW ${c.name} [${path}]`);
        } finally {
          setFilterGradPath(undefined);
        }
      }
      const expectedX = await runOnBackend("cpu", dxOf(c));
      for (const path of ["phases", "matmul", "registers"] as const) {
        setInputGradPath(path);
        try {
          const actualX = await runOnBackend("webgpu", dxOf(c));
          assertClose(actualX, expectedX, 1e-4, `dx ${c.name} [${path}]`);
        } finally {
          setInputGradPath(undefined);
        }
      }
    }
    // tf.grads through tf.conv2d reaches the same kernel.
    const c = WEBGPU_CASES[1];
    const f = () => {
      const x = randn(c.x, 1) as tf.Tensor4D;
      const filter = randn(c.filter, 2) as tf.Tensor4D;
      const w = randn(tf.conv2d(x, filter, c.strides, c.pad).shape, 3);
      return tf.grads((a: tf.Tensor, k: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.conv2d(a as tf.Tensor4D, k as tf.Tensor4D, c.strides, c.pad),
            w,
          ),
        )
      )([x, filter]);
    };
    assertClose(
      await runOnBackend("webgpu", f),
      await runOnBackend("cpu", f),
      1e-4,
      "grads",
    );
  },
});
