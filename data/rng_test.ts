import assert from "node:assert/strict";
import { createRng, deriveSeed, shuffledIndices } from "./rng.ts";

Deno.test("createRng: same seed gives the same sequence, different seeds differ", () => {
  const a = createRng(123), b = createRng(123), c = createRng(124);
  const sa = Array.from({ length: 20 }, () => a.next());
  const sb = Array.from({ length: 20 }, () => b.next());
  const sc = Array.from({ length: 20 }, () => c.next());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  for (const v of sa) assert.ok(v >= 0 && v < 1, `next() out of [0, 1): ${v}`);
});

Deno.test("createRng: state survives JSON and resumes exactly", () => {
  const rng = createRng(9);
  for (let i = 0; i < 5; i++) rng.normal();
  const saved = JSON.parse(JSON.stringify(rng.state()));
  assert.equal(saved.algorithm, "sfc32");
  const resumed = createRng(saved);
  const x = Array.from({ length: 10 }, () => rng.next());
  const y = Array.from({ length: 10 }, () => resumed.next());
  assert.deepEqual(y, x);
});

Deno.test("createRng: large and fractional seeds are distinct", () => {
  const first = (s: number): number => createRng(s).next();
  assert.notEqual(first(1), first(1 + 2 ** 32));
  assert.notEqual(first(0.25), first(0.5));
});

Deno.test("createRng: int, range, pick stay in bounds; uniform-ish", () => {
  const rng = createRng(1);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 5000; i++) counts[rng.int(5)]++;
  for (const c of counts) {
    assert.ok(c > 850 && c < 1150, `int(5) counts ${counts}`);
  }
  for (let i = 0; i < 100; i++) {
    const r = rng.range(-2, 3);
    assert.ok(r >= -2 && r < 3);
    assert.ok(["a", "b"].includes(rng.pick(["a", "b"])));
  }
  let sum = 0, sq = 0;
  for (let i = 0; i < 4000; i++) {
    const n = rng.normal();
    sum += n;
    sq += n * n;
  }
  assert.ok(Math.abs(sum / 4000) < 0.08, `normal mean ${sum / 4000}`);
  assert.ok(Math.abs(sq / 4000 - 1) < 0.1, `normal variance ${sq / 4000}`);
});

Deno.test("createRng: bad seeds and states are clear errors", () => {
  assert.throws(
    () => createRng(NaN),
    /seed: expected a finite number, received NaN/,
  );
  assert.throws(
    () => createRng({ algorithm: "sfc32", s: [1, 2, 3] } as never),
    /invalid RNG state: expected .*received/,
  );
  assert.throws(
    () => createRng(1).int(0),
    /expected a positive integer, received 0/,
  );
});

Deno.test("shuffledIndices: a seeded permutation", () => {
  const p = shuffledIndices(50, createRng(3));
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.deepEqual(shuffledIndices(50, createRng(3)), p);
  assert.notDeepEqual(p, Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("deriveSeed: depends on every part", () => {
  assert.equal(deriveSeed(1, 2, 3), deriveSeed(1, 2, 3));
  assert.notEqual(deriveSeed(1, 2, 3), deriveSeed(1, 2, 4));
  assert.notEqual(deriveSeed(1, 2, 3), deriveSeed(2, 2, 3));
});
