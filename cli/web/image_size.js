// The size a PNG or JPEG header declares, read in the browser before an
// upload is decoded (the same rules as data/image_size.ts).

/**
 * The width and height a PNG or JPEG header declares (as data/image_size.ts
 * reads them), or null: an upload above the pixel limit is refused before
 * the browser decodes it.
 */
export function declaredSize(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50) {
    return { width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 <= bytes.length && bytes[i] === 0xff) {
    const m = bytes[i + 1];
    if (m === 0xff) {
      i++;
      continue;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      i += 2;
      continue;
    }
    if (m === 0xd9 || m === 0xda) return null;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: dv.getUint16(i + 5), width: dv.getUint16(i + 7) };
    }
    i += 2 + dv.getUint16(i + 2);
  }
  return null;
}
