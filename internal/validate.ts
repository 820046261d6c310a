/**
 * Validation with one message style: `WHAT must be …, received "VALUE"`,
 * where WHAT names the option, flag or field at fault.
 *
 * @module
 */

/** Renders a received value for a message. */
export function received(value: unknown): string {
  if (typeof value === "string") return `"${value}"`;
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  if (value === undefined) return "nothing";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Returns `value` typed as one of `choices`, or throws naming `what`, the
 * choices and the value received.
 *
 * @example
 * ```ts
 * import { oneOf } from "@p2p/internal";
 * const norm = oneOf("norm", "batch", ["batch", "instance", "none"] as const);
 * console.log(norm); // "batch"
 * ```
 */
export function oneOf<T extends string>(
  what: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (
    typeof value === "string" && (choices as readonly string[]).includes(value)
  ) {
    return value as T;
  }
  throw new RangeError(
    `${what} must be one of ${choices.join(", ")}, received ${received(value)}`,
  );
}

/** Returns `value` when it is an integer in `min..max`, else throws naming `what`. */
export function integerIn(
  what: string,
  value: unknown,
  min: number = -Number.MAX_SAFE_INTEGER,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  if (
    typeof value === "number" && Number.isInteger(value) && value >= min &&
    value <= max
  ) return value;
  throw new RangeError(
    `${what} must be an integer${range(min, max)}, received ${received(value)}`,
  );
}

/** Returns `value` when it is a finite number in `min..max`, else throws naming `what`. */
export function numberIn(
  what: string,
  value: unknown,
  min: number = -Infinity,
  max: number = Infinity,
): number {
  if (
    typeof value === "number" && Number.isFinite(value) && value >= min &&
    value <= max
  ) return value;
  throw new RangeError(
    `${what} must be a number${range(min, max)}, received ${received(value)}`,
  );
}

function range(min: number, max: number): string {
  const lo = min > -Number.MAX_SAFE_INTEGER && min > -Infinity;
  const hi = max < Number.MAX_SAFE_INTEGER && max < Infinity;
  if (lo && hi) return ` in ${min}..${max}`;
  if (lo) return ` ≥ ${min}`;
  if (hi) return ` ≤ ${max}`;
  return "";
}
