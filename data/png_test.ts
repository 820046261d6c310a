import assert from "node:assert/strict";
import { Image } from "imagescript";
import { deflateSync } from "node:zlib";
import { crc32, decodePng } from "./png.ts";
import { createRng } from "./rng.ts";

// Written by Pillow 9.4 (Image.save(..., 'PNG')) with the RGB Pillow decodes (convert('RGB')).
const PIL_PNGS: Record<string, { png: string; rgb: number[] }> = {
  "RGB": {
    png:
      "iVBORw0KGgoAAAANSUhEUgAAAAUAAAADCAIAAADUVFKvAAAAO0lEQVR4nAEwAM//AawvdRQUhgMkDhCu6VFCVAQsKRdiaevtlqUxPLP19gIEMTznxzLfLvgBwgO+gGSroOYTh0XHpeoAAAAASUVORK5CYII=",
    rgb: [
      172,
      47,
      117,
      192,
      67,
      251,
      195,
      103,
      9,
      211,
      21,
      242,
      36,
      87,
      70,
      216,
      88,
      140,
      58,
      193,
      230,
      39,
      87,
      174,
      88,
      81,
      165,
      25,
      77,
      72,
      9,
      148,
      115,
      208,
      243,
      197,
      254,
      79,
      175,
      192,
      82,
      99,
      216,
      177,
      243,
    ],
  },
  "RGBA": {
    png:
      "iVBORw0KGgoAAAANSUhEUgAAAAUAAAADCAYAAABbNsX4AAAASklEQVR4nAE/AMD/AawvdR0UFIZ2AyQOABCu6ftRQlQZBCwpFwNiaesu7ZalSDE8s7D19gLGBDE85wDHMt9eLvgBwcIDviqAZKvevsEZRDN33+IAAAAASUVORK5CYII=",
    rgb: [
      172,
      47,
      117,
      192,
      67,
      251,
      195,
      103,
      9,
      211,
      21,
      242,
      36,
      87,
      70,
      216,
      88,
      140,
      58,
      193,
      230,
      39,
      87,
      174,
      88,
      81,
      165,
      25,
      77,
      72,
      9,
      148,
      115,
      208,
      243,
      197,
      254,
      79,
      175,
      192,
      82,
      99,
      216,
      177,
      243,
    ],
  },
  "L": {
    png:
      "iVBORw0KGgoAAAANSUhEUgAAAAUAAAADCAAAAAB+XZokAAAAG0lEQVR4nGOMUfz9/j6ThsLtb99ZHsd/fJ4OAFOpCd9WEJN6AAAAAElFTkSuQmCC",
    rgb: [
      92,
      92,
      92,
      125,
      125,
      125,
      120,
      120,
      120,
      103,
      103,
      103,
      70,
      70,
      70,
      132,
      132,
      132,
      157,
      157,
      157,
      83,
      83,
      83,
      93,
      93,
      93,
      61,
      61,
      61,
      103,
      103,
      103,
      227,
      227,
      227,
      142,
      142,
      142,
      117,
      117,
      117,
      196,
      196,
      196,
    ],
  },
  "LA": {
    png:
      "iVBORw0KGgoAAAANSUhEUgAAAAUAAAADCAQAAADxPw1zAAAAKklEQVR4nGOM+a/I8JvhPcN9BiYNBgWG2wzfGL4zsDxmiGf4yPCcIZ0BALyJCt5kgdJtAAAAAElFTkSuQmCC",
    rgb: [
      92,
      92,
      92,
      125,
      125,
      125,
      120,
      120,
      120,
      103,
      103,
      103,
      70,
      70,
      70,
      132,
      132,
      132,
      157,
      157,
      157,
      83,
      83,
      83,
      93,
      93,
      93,
      61,
      61,
      61,
      103,
      103,
      103,
      227,
      227,
      227,
      142,
      142,
      142,
      117,
      117,
      117,
      196,
      196,
      196,
    ],
  },
  "1": {
    png:
      "iVBORw0KGgoAAAANSUhEUgAAAAUAAAADAQAAAABzTfhVAAAADklEQVR4nGMIYDJg+gEAAyoBfSefYYwAAAAASUVORK5CYII=",
    rgb: [
      0,
      0,
      0,
      255,
      255,
      255,
      0,
      0,
      0,
      255,
      255,
      255,
      0,
      0,
      0,
      255,
      255,
      255,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      255,
      255,
      255,
      255,
      255,
      255,
      255,
      255,
      255,
      255,
      255,
      255,
    ],
  },
  "P": {
    png:
      "iVBORw0KGgoAAAANSUhEUgAAAAUAAAADBAMAAACpGNjLAAAAMFBMVEWhzN9mfj5hV4DVTK/TFfJfRHYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB4jHHjAAAAFElEQVR4nGMwERFgMFAKYFAwZgAACBIBTtDU66kAAAAASUVORK5CYII=",
    rgb: [
      213,
      76,
      175,
      211,
      21,
      242,
      102,
      126,
      62,
      211,
      21,
      242,
      102,
      126,
      62,
      213,
      76,
      175,
      161,
      204,
      223,
      97,
      87,
      128,
      97,
      87,
      128,
      95,
      68,
      118,
      97,
      87,
      128,
      161,
      204,
      223,
      213,
      76,
      175,
      213,
      76,
      175,
      161,
      204,
      223,
    ],
  },
};

function b64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

Deno.test("decodePng: files written by Pillow (RGB, RGBA, L, LA, 1-bit, 4-bit palette)", () => {
  for (const [mode, { png, rgb }] of Object.entries(PIL_PNGS)) {
    const d = decodePng(b64(png));
    assert.equal(d.width, 5, mode);
    assert.equal(d.height, 3, mode);
    assert.deepEqual(Array.from(d.rgb), rgb, mode);
  }
});

Deno.test("decodePng: reads imagescript's own output that imagescript's decoder rejects", async () => {
  const img = new Image(8, 6);
  for (let i = 0; i < 48; i++) {
    img.bitmap.set([
      10 + (i % 8) * 20 + (i >> 3),
      11 + (i % 8) * 20 + (i >> 3),
      12 + (i % 8) * 20 + (i >> 3),
      255,
    ], 4 * i);
  }
  const d = decodePng(await img.encode(1));
  assert.deepEqual(Array.from(d.rgb.subarray(0, 6)), [10, 11, 12, 30, 31, 32]);
});

/** Packs samples (one array per row) at `depth` bits. */
function packRow(samples: number[], depth: number): number[] {
  if (depth === 8) return samples;
  if (depth === 16) return samples.flatMap((v) => [v >> 8, v & 255]);
  const out = new Array(Math.ceil((samples.length * depth) / 8)).fill(0);
  samples.forEach((v, i) => {
    const bit = i * depth;
    out[bit >> 3] |= v << (8 - depth - (bit & 7));
  });
  return out;
}

/** Applies PNG filter `type` to a row (bytes) given the previous row. */
function filterRow(
  type: number,
  row: number[],
  prev: number[] | null,
  bpp: number,
): number[] {
  return row.map((x, i) => {
    const a = i >= bpp ? row[i - bpp] : 0,
      b = prev ? prev[i] : 0,
      c = prev && i >= bpp ? prev[i - bpp] : 0;
    const p = a + b - c,
      pa = Math.abs(p - a),
      pb = Math.abs(p - b),
      pc = Math.abs(p - c);
    const pred = [
      0,
      a,
      b,
      (a + b) >> 1,
      pa <= pb && pa <= pc ? a : pb <= pc ? b : c,
    ][type];
    return (x - pred) & 255;
  });
}

/** A hand-made PNG encoder: any colour type and depth, optional Adam7, filters cycling 0..4 by row. */
function encode(
  w: number,
  h: number,
  color: number,
  depth: number,
  pixel: (x: number, y: number) => number[],
  interlace: boolean,
  palette?: number[],
): Uint8Array {
  const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[color]!;
  const bpp = Math.max(1, (samples * depth) >> 3);
  const passes = interlace
    ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [
      1,
      0,
      2,
      2,
    ], [0, 1, 1, 2]]
    : [[0, 0, 1, 1]];
  const raw: number[] = [];
  let rowIndex = 0;
  for (const [x0, y0, dx, dy] of passes) {
    let prev: number[] | null = null;
    for (let y = y0; y < h; y += dy) {
      const s: number[] = [];
      for (let x = x0; x < w; x += dx) s.push(...pixel(x, y));
      if (s.length === 0) continue;
      const row = packRow(s, depth);
      const type = rowIndex++ % 5;
      raw.push(type, ...filterRow(type, row, prev, bpp));
      prev = row;
    }
  }
  const chunk = (type: string, data: number[]): number[] => {
    const body = [...type].map((c) => c.charCodeAt(0)).concat(data);
    const crc = crc32(Uint8Array.from(body));
    const be = (
      v: number,
    ): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    return [...be(data.length), ...body, ...be(crc)];
  };
  const ihdr = [0, 0, 0, w, 0, 0, 0, h, depth, color, 0, 0, interlace ? 1 : 0];
  return Uint8Array.from([
    137,
    80,
    78,
    71,
    13,
    10,
    26,
    10,
    ...chunk("IHDR", ihdr),
    ...(palette ? chunk("PLTE", palette) : []),
    ...chunk("IDAT", Array.from(deflateSync(Uint8Array.from(raw)))),
    ...chunk("IEND", []),
  ]);
}

Deno.test("decodePng: every colour type and bit depth, plain and Adam7, all five filters", () => {
  const rng = createRng(1);
  const cases: [number, number][] = [
    [0, 1],
    [0, 2],
    [0, 4],
    [0, 8],
    [0, 16],
    [2, 8],
    [2, 16],
    [3, 2],
    [3, 8],
    [4, 8],
    [4, 16],
    [6, 8],
    [6, 16],
  ];
  for (const [color, depth] of cases) {
    for (const interlace of [false, true]) {
      const w = 11, h = 9;
      const samples = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[color]!;
      const max = color === 3 ? 3 : (1 << depth) - 1;
      const px = Array.from(
        { length: w * h },
        () => Array.from({ length: samples }, () => rng.int(max + 1)),
      );
      const palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 99, 199];
      const png = encode(
        w,
        h,
        color,
        depth,
        (x, y) => px[y * w + x],
        interlace,
        color === 3 ? palette : undefined,
      );
      const d = decodePng(png);
      const to8 = (
        v: number,
      ): number => (depth === 16 ? v >> 8 : Math.round((v * 255) / max));
      const expected = px.flatMap((p) =>
        color === 3
          ? palette.slice(p[0] * 3, p[0] * 3 + 3)
          : samples <= 2
          ? [to8(p[0]), to8(p[0]), to8(p[0])]
          : [to8(p[0]), to8(p[1]), to8(p[2])]
      );
      assert.deepEqual(
        Array.from(d.rgb),
        expected,
        `colour type ${color}, depth ${depth}, interlace ${interlace}`,
      );
    }
  }
});

Deno.test("decodePng: structural errors are described", () => {
  const good = encode(4, 4, 2, 8, (x, y) => [x * 60, y * 60, 0], false);
  assert.equal(decodePng(good).width, 4);
  assert.throws(
    () => decodePng(good.slice(0, good.length - 12)),
    /truncated PNG: expected an IEND chunk/,
  );
  assert.throws(
    () => decodePng(good.slice(0, 45)),
    /truncated PNG: chunk 'IDAT' at byte 33 needs/,
  );
  const bad = good.slice();
  bad[43] ^= 1;
  assert.throws(
    () => decodePng(bad),
    /corrupt PNG: CRC mismatch in chunk 'IDAT'/,
  );
  const badType = encode(4, 4, 5, 8, () => [0], false);
  assert.throws(
    () => decodePng(badType),
    /colour type 5 with bit depth 8 is not valid/,
  );
});
