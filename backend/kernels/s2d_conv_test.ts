import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  CONV_CASES,
  FEW_OUTPUT_CHANNEL_CASES,
  S2D_CASES,
} from "./conv_cases.ts";
import { convGeometry } from "./im2col.ts";
import { fillRows, s2dGeometry, type S2dMode, setS2dMode } from "./s2d_conv.ts";
import {
  allConvKernels,
  assertWasmMatchesCpu,
  BLAS_AVAILABLE,
} from "./test_util.ts";

tf.enableProdMode();

async function withMode(mode: S2dMode, f: () => Promise<void>): Promise<void> {
  const was = setS2dMode(mode);
  try {
    await f();
  } finally {
    setS2dMode(was);
  }
}

for (const c of [...S2D_CASES, ...CONV_CASES, ...FEW_OUTPUT_CHANNEL_CASES]) {
  Deno.test({
    name: `space-to-depth convolutions (forced) wasm = cpu: ${c.name}`,
    ignore: !BLAS_AVAILABLE,
    fn: () =>
      withMode(
        "always",
        () => assertWasmMatchesCpu(() => allConvKernels(c), c.name),
      ),
  });
}

for (const c of S2D_CASES) {
  Deno.test({
    name: `im2col convolutions (space-to-depth off) wasm = cpu: ${c.name}`,
    ignore: !BLAS_AVAILABLE,
    fn: () =>
      withMode(
        "off",
        () => assertWasmMatchesCpu(() => allConvKernels(c), c.name),
      ),
  });
  Deno.test({
    name: `space-to-depth convolutions (auto) wasm = cpu: ${c.name}`,
    ignore: !BLAS_AVAILABLE,
    fn: () =>
      withMode(
        "auto",
        () => assertWasmMatchesCpu(() => allConvKernels(c), c.name),
      ),
  });
}

Deno.test("s2dGeometry: applies to kernels a multiple of the stride, auto only on large outputs", () => {
  const g = (x: number[], f: number[], s: number | [number, number]) =>
    convGeometry(x, f, s, "same");
  withModeSync("auto", () => {
    const d = s2dGeometry(g([1, 64, 64, 32], [4, 4, 32, 64], 2), "forward");
    assert.deepEqual(d && [d.th, d.tw, d.s, d.hs, d.ws], [2, 2, 128, 33, 33]);
    assert.equal(
      s2dGeometry(g([1, 16, 16, 32], [4, 4, 32, 64], 2), "forward"),
      undefined,
    );
    assert.ok(s2dGeometry(g([1, 64, 64, 3], [4, 4, 3, 32], 2), "forward"));
    assert.equal(
      s2dGeometry(g([1, 64, 64, 3], [4, 4, 3, 32], 2), "input"),
      undefined,
    );
    assert.equal(
      s2dGeometry(g([1, 64, 64, 32], [3, 3, 32, 64], 2), "input"),
      undefined,
    );
    assert.equal(
      s2dGeometry(g([1, 64, 64, 32], [2, 2, 32, 64], 2), "filter"),
      undefined,
    );
  });
  withModeSync("always", () => {
    assert.ok(s2dGeometry(g([1, 4, 4, 32], [4, 4, 32, 64], 2), "input"));
  });
  withModeSync("off", () => {
    assert.equal(
      s2dGeometry(g([1, 64, 64, 32], [4, 4, 32, 64], 2), "forward"),
      undefined,
    );
  });
});

function withModeSync(mode: S2dMode, f: () => void): void {
  const was = setS2dMode(mode);
  try {
    f();
  } finally {
    setS2dMode(was);
  }
}

Deno.test("fillRows: repeats a bias row, or one value, over any length", () => {
  for (const len of [0, 1, 3, 6, 7, 48, 50]) {
    const out = new Float32Array(len).fill(NaN);
    fillRows(out, Float32Array.of(1, 2, 3), 3);
    assert.deepEqual(
      [...out],
      Array.from({ length: len }, (_, i) => (i % 3) + 1),
    );
    fillRows(out, Float32Array.of(5), 3);
    assert.ok(out.every((v) => v === 5));
  }
});

Deno.test("setS2dMode rejects an unknown mode and keeps the current one", () => {
  const was = setS2dMode("auto");
  try {
    assert.throws(
      () => setS2dMode("fast" as S2dMode),
      /expected "auto", "always" or "off", received "fast"/,
    );
    assert.equal(setS2dMode("auto"), "auto");
  } finally {
    setS2dMode(was);
  }
});
