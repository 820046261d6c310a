/**
 * A small seeded pseudo-random generator (sfc32) whose whole state is a plain
 * JSON value, so a training checkpoint can store it and resume exactly.
 *
 * @module
 */

/** The complete, JSON-serialisable state of an {@linkcode Rng}. */
export interface RngState {
  /** The algorithm; always `"sfc32"`. */
  readonly algorithm: "sfc32";
  /** The four 32-bit unsigned words of sfc32's state. */
  readonly s: readonly [number, number, number, number];
}

/** A seeded pseudo-random generator. */
export interface Rng {
  /** A float uniformly distributed in [0, 1) (32 bits of randomness). */
  next(): number;
  /** An integer uniformly distributed in [0, n); `n` must be a positive integer. */
  int(n: number): number;
  /** A float uniformly distributed in [lo, hi). */
  range(lo: number, hi: number): number;
  /** A standard normal sample (Box-Muller; consumes two `next()` values). */
  normal(): number;
  /** `true` with probability `p`. */
  chance(p: number): boolean;
  /** One element of `items`, chosen uniformly. */
  pick<T>(items: readonly T[]): T;
  /** A copy of the current state; `createRng(rng.state())` continues the same sequence. */
  state(): RngState;
}

function sfc32Step(s: Uint32Array): number {
  const t = (s[0] + s[1] + s[3]) >>> 0;
  s[3] = (s[3] + 1) >>> 0;
  s[0] = s[1] ^ (s[1] >>> 9);
  s[1] = (s[2] + (s[2] << 3)) >>> 0;
  s[2] = ((s[2] << 21) | (s[2] >>> 11)) >>> 0;
  s[2] = (s[2] + t) >>> 0;
  return t;
}

function checkState(state: RngState): Uint32Array {
  const s = (state as { s?: unknown })?.s;
  if (
    state?.algorithm !== "sfc32" || !Array.isArray(s) || s.length !== 4 ||
    !s.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)
  ) {
    throw new Error(
      `invalid RNG state: expected {algorithm: "sfc32", s: [4 unsigned 32-bit integers]}, received ${
        JSON.stringify(state)
      }`,
    );
  }
  return Uint32Array.from(s);
}

/**
 * Creates a seeded generator from a numeric seed, or resumes one from a saved
 * {@linkcode RngState}. Seeds are any finite numbers; the same seed always gives
 * the same sequence.
 *
 * @example Save and resume
 * ```ts
 * import { createRng } from "./rng.ts";
 * const rng = createRng(42);
 * rng.next();
 * const saved = JSON.parse(JSON.stringify(rng.state()));
 * const again = createRng(saved);
 * if (again.next() !== rng.next()) throw new Error("not resumed");
 * ```
 */
export function createRng(seedOrState: number | RngState): Rng {
  let s: Uint32Array;
  if (typeof seedOrState === "number") {
    if (!Number.isFinite(seedOrState)) {
      throw new Error(
        `invalid RNG seed: expected a finite number, received ${seedOrState}`,
      );
    }
    const lo = seedOrState >>> 0;
    const hi = Math.floor(seedOrState / 4294967296) >>> 0;
    const frac =
      Math.floor((seedOrState - Math.floor(seedOrState)) * 4294967296) >>> 0;
    s = Uint32Array.of(lo, hi ^ 0x9e3779b9, frac ^ 0x85ebca6b, 1);
    for (let i = 0; i < 15; i++) sfc32Step(s);
  } else {
    s = checkState(seedOrState);
  }
  const next = (): number => sfc32Step(s) / 4294967296;
  return {
    next,
    int(n: number): number {
      if (!Number.isInteger(n) || n <= 0) {
        throw new Error(
          `rng.int(n): expected a positive integer, received ${n}`,
        );
      }
      return Math.floor(next() * n);
    },
    range: (lo: number, hi: number): number => lo + (hi - lo) * next(),
    normal(): number {
      const u = 1 - next(); // (0, 1]
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    chance: (p: number): boolean => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) {
        throw new Error("rng.pick: expected a non-empty array");
      }
      return items[Math.floor(next() * items.length)];
    },
    state: (): RngState => ({
      algorithm: "sfc32",
      s: [s[0], s[1], s[2], s[3]],
    }),
  };
}

/**
 * Derives a 32-bit seed from a base seed and a list of integers (e.g. an item
 * index), so item `i` of a generated set does not depend on how many items
 * were asked for.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  const rng = createRng(seed);
  let h = mix32(rng.int(4294967296));
  for (const p of parts) {
    h = mix32(
      (h ^ (p >>> 0) ^ Math.imul(Math.floor(p / 4294967296), 31)) >>> 0,
    );
  }
  return h;
}

function mix32(x: number): number {
  // murmur3 finaliser
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Returns `[0, 1, …, n-1]` shuffled with Fisher-Yates using `rng`
 * (consumes exactly `n - 1` draws).
 */
export function shuffledIndices(n: number, rng: Rng): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
