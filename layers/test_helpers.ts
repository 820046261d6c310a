/**
 * Helpers shared by this package's tests (not exported from mod.ts).
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * Asserts that each of `actual` is `expected`'s to within `tol` relative to
 * the largest magnitude of that expected array (at least 1). `names` names
 * the arrays in messages (else `output i`).
 */
export function assertArraysClose(
  actual: Float32Array[],
  expected: Float32Array[],
  tol: number,
  what: string,
  names: readonly string[] = [],
): void {
  assert.equal(actual.length, expected.length, `${what}: outputs`);
  actual.forEach((a, i) => {
    const e = expected[i];
    const name = names[i] ?? `output ${i}`;
    assert.equal(a.length, e.length, `${what} ${name}: lengths`);
    let scale = 1;
    for (const v of e) scale = Math.max(scale, Math.abs(v));
    for (let k = 0; k < e.length; k++) {
      const err = Math.abs(a[k] - e[k]) / scale;
      assert.ok(
        err <= tol,
        `${what} ${name}[${k}]: ${a[k]} vs ${e[k]} (relative ${err} > ${tol})`,
      );
    }
  });
}
