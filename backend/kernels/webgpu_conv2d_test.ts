import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu } from "../select_backend.ts";
import { CONV_CASES, type ConvCase } from "./conv_cases.ts";
import {
  assertClose,
  randn,
  runOnBackend,
  useWebGpuKernels,
} from "./test_util.ts";
import {
  type ConvPath,
  convPath,
  convSplitK,
  setConvPath,
} from "./webgpu_conv2d.ts";
import { setRegisterProducts } from "./webgpu_register_product.ts";

tf.enableProdMode();

const gpu = await probeGpu();

/** Beyond the shared cases: innermost U-Net layers, one output channel, split K. */
const CASES: ConvCase[] = [
  {
    name: "one output pixel, long K (split), 131 channels",
    x: [1, 2, 2, 37],
    filter: [4, 4, 37, 131],
    strides: 2,
    pad: "same",
  },
  {
    name: "batch 2, 2 x 2 output pixels, 130 channels",
    x: [2, 4, 4, 20],
    filter: [4, 4, 20, 130],
    strides: 2,
    pad: "same",
  },
  {
    name: "one output channel, 14 x 13 valid (PatchGAN's last)",
    x: [1, 17, 16, 33],
    filter: [4, 4, 33, 1],
    strides: 1,
    pad: "valid",
  },
  {
    name: "65 output channels, rows past one tile",
    x: [2, 9, 11, 5],
    filter: [4, 4, 5, 65],
    strides: 2,
    pad: "same",
  },
];

type Variant = { activation: string; bias: boolean; alpha?: number };

const VARIANTS: Variant[] = [
  { activation: "linear", bias: false },
  { activation: "linear", bias: true },
  { activation: "relu", bias: true },
  { activation: "leakyrelu", bias: false, alpha: 0.3 },
];

function convOf(c: ConvCase, v: Variant): () => tf.Tensor[] {
  return () => {
    const x = randn(c.x, 1);
    const filter = randn(c.filter, 2);
    const inputs: tf.NamedTensorMap = { x, filter };
    if (v.bias) inputs.bias = randn([c.filter[3]], 3);
    return [
      tf.engine().runKernel("FusedConv2D", inputs, {
        strides: c.strides,
        pad: c.pad,
        dataFormat: "NHWC",
        dilations: 1,
        activation: v.activation,
        leakyreluAlpha: v.alpha,
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
      // Conv2D reaches the same kernel function.
      tf.engine().runKernel("Conv2D", { x, filter }, {
        strides: c.strides,
        pad: c.pad,
        dataFormat: "NHWC",
        dilations: 1,
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
    ];
  };
}

Deno.test("convPath: registers past 2 pixels and 4 channels where register products are on", () => {
  setRegisterProducts(true);
  try {
    assert.equal(convPath(1, 256), "direct");
    assert.equal(convPath(2, 256), "direct");
    assert.equal(convPath(4, 256), "registers");
    assert.equal(convPath(196, 1), "direct");
    assert.equal(convPath(16, 256), "registers");
    assert.equal(convPath(225, 256), "registers");
  } finally {
    setRegisterProducts(false);
  }
});

Deno.test("convPath: direct for ≤ 4 pixels or channels, tiled to 16 pixels, else stock", () => {
  assert.equal(convPath(1, 256), "direct");
  assert.equal(convPath(196, 1), "direct");
  assert.equal(convPath(16, 256), "tiled");
  assert.equal(convPath(225, 256), "stock");
  const s = convSplitK(16, 256, 4096);
  assert.ok(s.splits > 1 && s.kPerSplit % 16 === 0);
  assert.ok(s.splits * s.kPerSplit >= 4096);
});

Deno.test({
  name:
    "Conv2D and FusedConv2D: p2p WebGPU kernels (direct, tiled, matmul, registers, routed) = cpu to 1e-4 on odd shapes",
  ignore: gpu.adapter === null,
  fn: async () => {
    await useWebGpuKernels();
    try {
      const paths: (ConvPath | undefined)[] = [
        "direct",
        "tiled",
        undefined,
        "matmul",
        "registers",
      ];
      for (const c of [...CONV_CASES, ...CASES]) {
        for (const [i, v] of VARIANTS.entries()) {
          const expected = await runOnBackend("cpu", convOf(c, v));
          // Every variant on the routed and register-tiled paths, every
          // other path on one variant each.
          for (const path of paths) {
            if (
              path !== paths[i % paths.length] && path !== undefined &&
              path !== "registers"
            ) {
              continue;
            }
            setConvPath(path);
            const actual = await runOnBackend("webgpu", convOf(c, v));
            assertClose(
              actual,
              expected,
              1e-4,
              `${c.name}, ${v.activation}${v.bias ? " + bias" : ""} [${
                path ?? "routed"
              }]`,
            );
          }
        }
      }
    } finally {
      setConvPath(undefined);
    }
  },
});
