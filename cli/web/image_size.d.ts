/** The width and height a PNG or JPEG header declares, or null. */
export function declaredSize(
  bytes: Uint8Array,
): { width: number; height: number } | null;
