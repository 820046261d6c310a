import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertWasmMatchesCpu, randn, runOn } from "./test_util.ts";
import { tanhValues } from "./elementwise_kernels.ts";

tf.enableProdMode();

Deno.test("LeakyRelu, Greater and Select wasm = cpu (batch 2, 1 channel, non-square; broadcast Greater falls back)", async () => {
  await assertWasmMatchesCpu(() => {
    const x = randn([2, 5, 3, 1], 1);
    const y = randn([2, 5, 3, 1], 2);
    const z = randn([3, 7, 6, 4], 3);
    const cond = tf.greater(x, y);
    return [
      tf.leakyRelu(x, 0.2),
      tf.leakyRelu(z, 0.01),
      tf.leakyRelu(tf.tensor1d([1, -2, 3], "int32"), 0.5),
      tf.greater(z, 0).toFloat(),
      tf.greater(z, tf.scalar(0.3)).toFloat(),
      cond.toFloat(),
      tf.greater(z, randn([4], 4)).toFloat(), // broadcast: the stock kernel
      tf.where(cond, x, y),
      tf.where(tf.greater(z, 0), z, tf.mul(z, 0.2)),
      tf.where(
        tf.tensor1d([true, false, true], "bool"),
        tf.tensor1d([1, 2, 3], "int32"),
        tf.tensor1d([4, 5, 6], "int32"),
      ).toFloat(),
    ];
  }, "elementwise");
});

Deno.test("LeakyRelu's gradient wasm = cpu (the Greater / Select path)", async () => {
  await assertWasmMatchesCpu(() => {
    const x = randn([2, 6, 5, 3], 7);
    const dy = randn([2, 6, 5, 3], 8);
    const [dx] = tf.grads((a: tf.Tensor) =>
      tf.sum(tf.mul(tf.leakyRelu(a, 0.2), dy))
    )([x]);
    return [dx];
  }, "leakyRelu gradient");
});

Deno.test("LeakyRelu wasm = cpu on ±∞, NaN, ±0 and huge values (the branch-free formula's redo)", async () => {
  const special = [Infinity, -Infinity, NaN, -0, 0, -3e38, 3e38, 1e-40, -1e-40];
  const f = () => [tf.leakyRelu(tf.tensor1d(special), 0.2)];
  const expected = await runOn("cpu", f);
  const actual = await runOn("xnnpack", f);
  assert.deepEqual(
    Array.from(actual.values[0]).map((v) => v + 0),
    Array.from(expected.values[0]).map((v) => v + 0),
  );
});

Deno.test("Tanh wasm = cpu to float32 rounding (the rational approximation, its edges, ±∞)", async () => {
  const edges = [
    0,
    -0,
    1e-30,
    -3.9e-4,
    4e-4,
    0.5,
    -1,
    3,
    7.89,
    -7.9,
    7.91,
    9,
    -20,
    Infinity,
    -Infinity,
  ];
  await assertWasmMatchesCpu(
    () => [
      tf.tanh(tf.randomNormal([2, 5, 3, 1], 0, 3, "float32", 4)),
      tf.tanh(tf.tensor1d(edges)),
    ],
    "tanh",
    3e-7,
  );
});

Deno.test("Tanh wasm: NaN stays NaN, ±0 keeps its sign, ±∞ is ±1", async () => {
  const f = () => [tf.tanh(tf.tensor1d([NaN, -0, 0, Infinity, -Infinity]))];
  const [nan, negZero, zero, inf, negInf] = (await runOn("xnnpack", f))
    .values[0];
  assert.ok(Number.isNaN(nan));
  assert.ok(Object.is(negZero, -0) && Object.is(zero, 0));
  assert.deepEqual([inf, negInf], [1, -1]);
});

Deno.test("LeakyRelu wasm (SIMD four at a time, a JavaScript tail) is bit-identical to cpu", async () => {
  const f = () => [
    tf.leakyRelu(tf.randomNormal([3, 7, 5, 9], 0, 10, "float32", 7), 0.2),
    tf.leakyRelu(tf.randomNormal([1001], 0, 1e-3, "float32", 8), 0.01),
  ];
  const expected = await runOn("cpu", f);
  const actual = await runOn("xnnpack", f);
  actual.values.forEach((a, i) => {
    assert.deepEqual(Array.from(a), Array.from(expected.values[i]));
  });
});

Deno.test("P2pLeakyReluGrad wasm = tfjs's Greater / Multiply / Select on cpu, bit for bit (odd sizes, exact zeros, ±∞)", async () => {
  for (
    const [shape, alpha] of [[[2, 5, 3, 1], 0.2], [[3, 4, 6, 8], 0.3], [[
      7,
    ], 0.01]] as [number[], number][]
  ) {
    const inputs = () => {
      const x = tf.div(tf.round(tf.mul(randn(shape, 1), 4)), 4);
      return [x, randn(shape, 2)];
    };
    const expected = await runOn("cpu", () => {
      const [x, dy] = inputs();
      return [tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha))];
    });
    const actual = await runOn("xnnpack", () => {
      const [x, dy] = inputs();
      return [
        tf.engine().runKernel("P2pLeakyReluGrad", { dy, x }, {
          alpha,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
      ];
    });
    assert.deepEqual(
      Array.from(actual.values[0]),
      Array.from(expected.values[0]),
      `[${shape}] alpha ${alpha}`,
    );
  }
  await assert.rejects(
    runOn("xnnpack", () => [
      tf.engine().runKernel("P2pLeakyReluGrad", {
        dy: tf.zeros([2, 3]),
        x: tf.zeros([3, 2]),
      }, { alpha: 0.2 } as unknown as tf.NamedAttrMap) as tf.Tensor,
    ]),
    /dy and x must be float32 of one shape, received float32 \[2,3\] and float32 \[3,2\]/,
  );
});

Deno.test("Add of a bias row wasm = cpu bit for bit (either order, [C] and [1, 1, C]); other shapes fall back", async () => {
  const f = () => {
    const x = randn([2, 5, 3, 7], 1);
    const row = randn([7], 2);
    return [
      tf.add(x, row),
      tf.add(row, x),
      tf.add(x, tf.reshape(row, [1, 1, 7])),
      tf.add(x, randn([2, 5, 3, 7], 3)),
      tf.add(x, tf.scalar(0.5)),
      tf.add(tf.tensor1d([1, 2], "int32"), tf.tensor1d([3, 4], "int32")),
    ];
  };
  const expected = await runOn("cpu", f);
  const actual = await runOn("xnnpack", f);
  actual.values.forEach((a, i) => {
    assert.deepEqual(
      Array.from(a),
      Array.from(expected.values[i]),
      `output ${i}`,
    );
  });
});

Deno.test("Tanh wasm (SIMD four at a time, redoing [7.9, 9.02) and NaN) = the JavaScript loop, bit for bit", async () => {
  const values: number[] = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40];
  for (let v = -12; v <= 12; v += 0.00731) values.push(v);
  for (const edge of [4e-4, 7.9, 9.02]) {
    for (let k = -3; k <= 3; k++) {
      const v = Math.fround(edge * (1 + k * 6e-8));
      values.push(v, -v);
    }
  }
  values.push(1, 2); // not a multiple of 4: a JavaScript tail
  const x = new Float32Array(values);
  const expected = new Float32Array(x.length);
  tanhValues(x, expected, 0, x.length);
  const actual = await runOn("xnnpack", () => [tf.tanh(tf.tensor1d(x))]);
  const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer));
  const canon = (v: Float32Array) => v.map((e) => (e !== e ? NaN : e));
  assert.deepEqual(bits(canon(actual.values[0])), bits(canon(expected)));
});

Deno.test("float32 tanh is exactly ±1 from 9.02 on (the SIMD loop's saturation)", () => {
  for (let v = 9.02; v < 40; v += 0.001) {
    assert.equal(Math.fround(Math.tanh(v)), 1, `tanh(${v})`);
    assert.equal(Math.fround(Math.tanh(-v)), -1, `tanh(${-v})`);
  }
});
