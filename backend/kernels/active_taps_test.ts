import assert from "node:assert/strict";
import { activeTaps, prunedGeometry } from "./active_taps.ts";
import { convGeometry } from "./im2col.ts";

Deno.test("activeTaps: the U-Net's innermost 2x2 -> 1x1 layer reads its 4x4 kernel's centre only", () => {
  const g = convGeometry([1, 2, 2, 8], [4, 4, 8, 8], 2, "same");
  assert.deepEqual(activeTaps(g), { a0: 1, a1: 2, b0: 1, b1: 2 });
  const gp = prunedGeometry(g, activeTaps(g))!;
  assert.deepEqual([gp.kh, gp.kw, gp.pt, gp.pl, gp.oh, gp.ow], [
    2,
    2,
    0,
    0,
    1,
    1,
  ]);
});

Deno.test("activeTaps: every tap active on larger inputs (nothing pruned)", () => {
  for (const side of [4, 8, 9]) {
    const g = convGeometry([1, side, side, 3], [4, 4, 3, 2], 2, "same");
    assert.equal(prunedGeometry(g, activeTaps(g)), undefined, `side ${side}`);
  }
});

Deno.test("activeTaps: one input row leaves a 4-row kernel one row (s2 same)", () => {
  const g = convGeometry([1, 1, 5, 3], [4, 3, 3, 2], 2, "same");
  const t = activeTaps(g);
  assert.equal(t.a1 - t.a0 + 1, 1);
  assert.deepEqual([t.b0, t.b1], [0, 2]);
});
