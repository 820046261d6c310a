/**
 * Byte arrays: the one way p2p joins parts (weight shards, PNG chunks).
 *
 * @module
 */

/**
 * The parts one after the other in a new array.
 *
 * @example
 * ```ts
 * import { concatBytes } from "@p2p/internal";
 * console.log(concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])])); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export function concatBytes(
  parts: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
