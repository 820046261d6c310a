import assert from "node:assert/strict";
import { col2imInto, col2imScratch } from "./col2im.ts";
import { col2imAdd, convGeometry } from "./im2col.ts";
import { uniformValues } from "./test_util.ts";

const bits = (v: Float32Array): number[] =>
  Array.from(new Uint32Array(v.slice().buffer));

Deno.test("col2im through the arena (WebAssembly SIMD) = col2imAdd's JavaScript loop, bit for bit", () => {
  const cases: [number[], number[], number, "same" | "valid" | number][] = [
    [[1, 8, 8, 3], [4, 4, 3, 5], 2, 1], // pix2pix's RGB layer, small
    [[2, 7, 5, 1], [3, 3, 1, 2], 1, "same"], // batch 2, 1 channel, non-square
    [[1, 9, 6, 5], [4, 4, 5, 3], 2, "same"], // odd runs: a scalar tail
    [[1, 4, 4, 8], [4, 4, 8, 16], 2, 1], // small grid, long runs
    [[2, 6, 6, 2], [2, 2, 2, 4], 2, "valid"],
  ];
  for (const [xShape, wShape, stride, pad] of cases) {
    const g = convGeometry(xShape, wShape, stride, pad);
    const p = g.n * g.oh * g.ow;
    const k = g.kh * g.kw * g.ci;
    const dxSize = g.n * g.h * g.w * g.ci;
    const values = uniformValues(p * k, p + k);
    const expected = new Float32Array(dxSize);
    col2imAdd(g, values, expected);
    const [cols, acc] = col2imScratch(p * k, dxSize);
    cols.set(values);
    const actual = new Float32Array(dxSize).fill(7); // overwritten, not added to
    col2imInto(g, cols, acc, actual);
    assert.equal(acc.length, dxSize, "the WebAssembly loop ran");
    assert.deepEqual(bits(actual), bits(expected), `${xShape} * ${wShape}`);
  }
});
