/**
 * The state of Johannes Baagøe's Alea generator as `seedrandom.alea` (the
 * generator behind tfjs's seeded `tf.randomUniform`) seeds it from a string,
 * so that a kernel can draw the very values `tf.randomUniform(shape, 0, 1,
 * "float32", seed)` draws. Alea and its Mash hash are MIT-licensed (©
 * Johannes Baagøe 2010, as vendored in seedrandom and tfjs-core).
 *
 * Each draw is `t = 2091639·s0 + c·2⁻³²; s0 = s1; s1 = s2; c = trunc(t);
 * s2 = t − c`, returning s2, all in float64.
 *
 * @module
 */

/** Alea's state: three fractions in [0, 1) and a carry. */
export interface AleaState {
  /** Oldest fraction. */
  s0: number;
  /** Middle fraction. */
  s1: number;
  /** Newest fraction (the last value drawn). */
  s2: number;
  /** Carry. */
  c: number;
}

/** Baagøe's Mash hash: a function that folds strings into its state and returns a fraction. */
function mash(): (data: string) => number {
  let n = 0xefc8249d;
  return (data) => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000; // 2^32
    }
    return (n >>> 0) * 2.3283064365386963e-10; // 2^-32
  };
}

/** The state `seedrandom.alea(seed)` starts from (`seed` as tfjs passes it: `String(seed)`). */
export function aleaState(seed: string): AleaState {
  const m = mash();
  let s0 = m(" ");
  let s1 = m(" ");
  let s2 = m(" ");
  s0 -= m(seed);
  if (s0 < 0) s0 += 1;
  s1 -= m(seed);
  if (s1 < 0) s1 += 1;
  s2 -= m(seed);
  if (s2 < 0) s2 += 1;
  return { s0, s1, s2, c: 1 };
}

/** Draws the next value of `state` (advancing it), as `seedrandom.alea` does. */
export function aleaNext(state: AleaState): number {
  const t = 2091639 * state.s0 + state.c * 2.3283064365386963e-10;
  state.s0 = state.s1;
  state.s1 = state.s2;
  state.c = t | 0;
  return state.s2 = t - state.c;
}
