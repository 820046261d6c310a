/**
 * A small, strict PNG decoder (zlib via `node:zlib`). imagescript 1.3.1's
 * wasm PNG decoder rejects some valid files (e.g. some it encodes itself,
 * "png: failed to decode (-8)") and silently accepts some truncated ones, so
 * PNG input is decoded here: every colour type (grey, RGB, palette, grey +
 * alpha, RGBA), bit depths 1–16, Adam7 interlacing; chunk bounds and
 * critical-chunk CRCs are checked as libpng does. Alpha is dropped.
 *
 * @module
 */
import { concatBytes } from "@p2p/internal";
import { inflateSync } from "node:zlib";

let crcTable: Uint32Array | null = null;

/** CRC-32 as used by PNG. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c = crcTable[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A decoded PNG as 8-bit RGB. */
export interface DecodedPng {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Interleaved RGB, `width * height * 3` bytes. */
  rgb: Uint8Array;
}

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reverses PNG filtering in place; returns the offset just past the last row. */
function unfilter(
  data: Uint8Array,
  offset: number,
  rows: number,
  rowBytes: number,
  bpp: number,
): number {
  let prev = -1; // offset of the previous row's first byte
  let off = offset;
  for (let y = 0; y < rows; y++) {
    if (off + 1 + rowBytes > data.length) {
      throw new Error("truncated PNG: image data ends early");
    }
    const type = data[off];
    const row = off + 1;
    switch (type) {
      case 0:
        break;
      case 1:
        for (let i = bpp; i < rowBytes; i++) {
          data[row + i] = (data[row + i] + data[row + i - bpp]) & 255;
        }
        break;
      case 2:
        if (prev >= 0) {
          for (let i = 0; i < rowBytes; i++) {
            data[row + i] = (data[row + i] + data[prev + i]) & 255;
          }
        }
        break;
      case 3:
        for (let i = 0; i < rowBytes; i++) {
          const left = i >= bpp ? data[row + i - bpp] : 0;
          const up = prev >= 0 ? data[prev + i] : 0;
          data[row + i] = (data[row + i] + ((left + up) >> 1)) & 255;
        }
        break;
      case 4:
        for (let i = 0; i < rowBytes; i++) {
          const left = i >= bpp ? data[row + i - bpp] : 0;
          const up = prev >= 0 ? data[prev + i] : 0;
          const ul = prev >= 0 && i >= bpp ? data[prev + i - bpp] : 0;
          data[row + i] = (data[row + i] + paeth(left, up, ul)) & 255;
        }
        break;
      default:
        throw new Error(`corrupt PNG: unknown filter type ${type} in row ${y}`);
    }
    prev = row;
    off = row + rowBytes;
  }
  return off;
}

/**
 * Decodes PNG bytes to 8-bit RGB (16-bit samples keep their high byte, low bit
 * depths are scaled to 0–255, palettes are expanded, alpha is dropped).
 * Throws an Error describing what is wrong (without a file name).
 */
export function decodePng(bytes: Uint8Array): DecodedPng {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 8;
  let first = true;
  let ihdr: {
    w: number;
    h: number;
    depth: number;
    color: number;
    interlace: number;
  } | null = null;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  while (true) {
    if (off + 8 > bytes.length) {
      throw new Error(
        `truncated PNG: expected an IEND chunk, the file ends after ${bytes.length} bytes`,
      );
    }
    const len = dv.getUint32(off);
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
    if (first && type !== "IHDR") {
      throw new Error(
        `corrupt PNG: expected the IHDR chunk first, received '${type}'`,
      );
    }
    first = false;
    const end = off + 12 + len;
    if (end > bytes.length) {
      throw new Error(
        `truncated PNG: chunk '${type}' at byte ${off} needs ${
          12 + len
        } bytes, only ${bytes.length - off} remain`,
      );
    }
    const body = bytes.subarray(off + 8, off + 8 + len);
    const critical = type.charCodeAt(0) >= 65 && type.charCodeAt(0) <= 90;
    if (
      critical &&
      crc32(bytes.subarray(off + 4, off + 8 + len)) !==
        dv.getUint32(off + 8 + len)
    ) {
      throw new Error(
        `corrupt PNG: CRC mismatch in chunk '${type}' at byte ${off}`,
      );
    }
    if (type === "IHDR") {
      if (len !== 13) {
        throw new Error(`corrupt PNG: IHDR has ${len} bytes, expected 13`);
      }
      ihdr = {
        w: dv.getUint32(off + 8),
        h: dv.getUint32(off + 12),
        depth: body[8],
        color: body[9],
        interlace: body[12],
      };
    } else if (type === "PLTE") palette = body;
    else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    off = end;
  }
  const { w, h, depth, color, interlace } = ihdr!;
  if (w === 0 || h === 0) throw new Error(`corrupt PNG: size ${w}x${h}`);
  if (!(color in SAMPLES) || !DEPTHS[color].includes(depth)) {
    throw new Error(
      `corrupt PNG: colour type ${color} with bit depth ${depth} is not valid`,
    );
  }
  if (interlace > 1) {
    throw new Error(`corrupt PNG: unknown interlace method ${interlace}`);
  }
  if (color === 3 && !palette) {
    throw new Error("corrupt PNG: palette image without a PLTE chunk");
  }
  if (idat.length === 0) throw new Error("corrupt PNG: no IDAT chunk");
  let packed: Uint8Array;
  try {
    const out = inflateSync(concatBytes(idat));
    packed = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new Error(
      `corrupt PNG: image data does not decompress (${(e as Error).message})`,
    );
  }
  const samples = SAMPLES[color];
  const bitsPP = samples * depth;
  const bpp = Math.max(1, bitsPP >> 3);
  const rgb = new Uint8Array(w * h * 3);
  const maxV = (1 << Math.min(depth, 8)) - 1;

  const emit = (
    pass: Uint8Array,
    rowStart: number,
    pw: number,
    toX: (i: number) => number,
    y: number,
  ): void => {
    if (depth === 8 && color !== 3) {
      // fast path: 8-bit grey, grey + alpha, RGB, RGBA
      for (let i = 0, s = rowStart; i < pw; i++, s += samples) {
        const o = (y * w + toX(i)) * 3;
        if (samples <= 2) rgb[o] = rgb[o + 1] = rgb[o + 2] = pass[s];
        else {
          rgb[o] = pass[s];
          rgb[o + 1] = pass[s + 1];
          rgb[o + 2] = pass[s + 2];
        }
      }
      return;
    }
    for (let i = 0; i < pw; i++) {
      const sample = (s: number): number => {
        if (depth === 8) return pass[rowStart + i * samples + s];
        if (depth === 16) return pass[rowStart + (i * samples + s) * 2];
        const bit = (i * samples + s) * depth;
        const v = (pass[rowStart + (bit >> 3)] >> (8 - depth - (bit & 7))) &
          maxV;
        return color === 3 ? v : Math.round((v * 255) / maxV);
      };
      const o = (y * w + toX(i)) * 3;
      if (color === 3) {
        const k = sample(0) * 3;
        if (k + 2 >= palette!.length) {
          throw new Error(`corrupt PNG: palette index ${k / 3} out of range`);
        }
        rgb[o] = palette![k];
        rgb[o + 1] = palette![k + 1];
        rgb[o + 2] = palette![k + 2];
      } else if (samples <= 2) {
        rgb[o] = rgb[o + 1] = rgb[o + 2] = sample(0);
      } else {
        rgb[o] = sample(0);
        rgb[o + 1] = sample(1);
        rgb[o + 2] = sample(2);
      }
    }
  };

  if (interlace === 0) {
    const rowBytes = Math.ceil((w * bitsPP) / 8);
    unfilter(packed, 0, h, rowBytes, bpp);
    for (let y = 0; y < h; y++) {
      emit(packed, y * (rowBytes + 1) + 1, w, (i) => i, y);
    }
  } else {
    const passes = [
      [0, 0, 8, 8],
      [4, 0, 8, 8],
      [0, 4, 4, 8],
      [2, 0, 4, 4],
      [0, 2, 2, 4],
      [1, 0, 2, 2],
      [0, 1, 1, 2],
    ];
    let off = 0;
    for (const [x0, y0, dx, dy] of passes) {
      const pw = Math.ceil((w - x0) / dx), ph = Math.ceil((h - y0) / dy);
      if (pw <= 0 || ph <= 0) continue;
      const rowBytes = Math.ceil((pw * bitsPP) / 8);
      const start = off;
      off = unfilter(packed, start, ph, rowBytes, bpp);
      for (let r = 0; r < ph; r++) {
        emit(
          packed,
          start + r * (rowBytes + 1) + 1,
          pw,
          (i) => x0 + i * dx,
          y0 + r * dy,
        );
      }
    }
  }
  return { width: w, height: h, rgb };
}
