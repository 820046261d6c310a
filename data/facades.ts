/**
 * Procedural building facades: a label map in CMP-facades-like colours and a
 * rendered photo of the same scene, by day or by night. Pure typed-array
 * drawing; deterministic for a seed; any size.
 *
 * @module
 */
import {
  Canvas,
  LabelMap,
  mix,
  type Rect,
  type Rgb,
  ValueNoise,
} from "./canvas.ts";
import type { Pixels } from "./image.ts";
import { createRng, deriveSeed, type Rng } from "./rng.ts";
import {
  type GeneratedPair,
  type GenerateOptions,
  pairName,
  resolveGenerateOptions,
} from "./generator_options.ts";

/** One class of the facade label map. */
export interface FacadeClass {
  /** Class id (index into {@linkcode FACADE_PALETTE}). */
  readonly id: number;
  /** Class name, as in the CMP facade database. */
  readonly name: string;
  /** Colour in the label map. */
  readonly color: readonly [number, number, number];
}

/**
 * The label-map palette: the twelve CMP facade database classes in their
 * order, coloured with MATLAB's `jet(12)` colour map (dark blue background …
 * dark red shop), as the CMP label images are.
 */
export const FACADE_PALETTE: readonly FacadeClass[] = [
  { id: 0, name: "background", color: [0, 0, 170] },
  { id: 1, name: "facade", color: [0, 0, 255] },
  { id: 2, name: "window", color: [0, 85, 255] },
  { id: 3, name: "door", color: [0, 170, 255] },
  { id: 4, name: "cornice", color: [0, 255, 255] },
  { id: 5, name: "sill", color: [85, 255, 170] },
  { id: 6, name: "balcony", color: [170, 255, 85] },
  { id: 7, name: "blind", color: [255, 255, 0] },
  { id: 8, name: "deco", color: [255, 170, 0] },
  { id: 9, name: "molding", color: [255, 85, 0] },
  { id: 10, name: "pillar", color: [255, 0, 0] },
  { id: 11, name: "shop", color: [170, 0, 0] },
];

const C = {
  background: 0,
  facade: 1,
  window: 2,
  door: 3,
  cornice: 4,
  sill: 5,
  balcony: 6,
  blind: 7,
  deco: 8,
  molding: 9,
  pillar: 10,
  shop: 11,
} as const;

type Kind = keyof typeof C;

interface Element {
  kind: Kind;
  rect: Rect;
  /** Windows and shops: lit at night. */
  lit?: boolean;
  /** Per-element brightness offset (glass reflections, wood tone). */
  tone?: number;
  /** Cast a shadow below (cornices, sills, deco). */
  shadow?: boolean;
}

/** A generated facade scene (layout and materials), rendered by {@linkcode renderFacade}. */
export interface FacadeScene {
  /** Image side in pixels. */
  readonly size: number;
  /** Seed of the per-pixel noise. */
  readonly noiseSeed: number;
  /** Elements, drawn in order. */
  readonly elements: readonly Element[];
  /** Wall colour. */
  readonly wall: Rgb;
  /** Stone colour (cornices, sills, moldings, pillars, deco). */
  readonly stone: Rgb;
  /** Shutter colour. */
  readonly blind: Rgb;
  /** Window frame colour. */
  readonly frame: Rgb;
  /** Door colour. */
  readonly door: Rgb;
  /** Shop sign colour. */
  readonly sign: Rgb;
  /** Brick courses: row height in pixels, or 0 for plaster. */
  readonly brick: number;
  /** Overall light level of the photo. */
  readonly light: number;
}

const WALLS: readonly Rgb[] = [
  [200, 172, 128], // sandstone
  [164, 88, 62], // brick red
  [228, 220, 198], // cream
  [196, 136, 92], // terracotta
];
const BLINDS: readonly Rgb[] = [[70, 110, 72], [122, 82, 52], [212, 210, 200], [
  82,
  102,
  124,
]];
const FRAMES: readonly Rgb[] = [[236, 234, 228], [92, 64, 44]];
const DOORS: readonly Rgb[] = [[96, 62, 40], [62, 42, 30], [44, 66, 54], [
  72,
  72,
  84,
]];
const SIGNS: readonly Rgb[] = [[160, 34, 34], [34, 64, 128], [40, 96, 54], [
  36,
  36,
  36,
], [186, 146, 44]];

function jitterColor(c: Rgb, amount: number, rng: Rng): Rgb {
  return [
    c[0] + rng.range(-amount, amount),
    c[1] + rng.range(-amount, amount),
    c[2] + rng.range(-amount, amount),
  ];
}

function rect(x0: number, y0: number, x1: number, y1: number): Rect {
  return {
    x0: Math.round(x0),
    y0: Math.round(y0),
    x1: Math.round(x1),
    y1: Math.round(y1),
  };
}

/** Lays out a random facade scene of `size`×`size` pixels. */
export function facadeScene(size: number, rng: Rng): FacadeScene {
  const S = size;
  const px = (f: number, min = 1): number => Math.max(min, Math.round(S * f));
  const els: Element[] = [];
  const add = (kind: Kind, r: Rect, extra: Partial<Element> = {}): void => {
    if (r.x1 > r.x0 && r.y1 > r.y0) els.push({ kind, rect: r, ...extra });
  };
  const skyH = Math.round(S * rng.range(0.03, 0.16));
  const leftM = rng.chance(0.35) ? Math.round(S * rng.range(0.02, 0.12)) : 0;
  const rightM = rng.chance(0.35) ? Math.round(S * rng.range(0.02, 0.12)) : 0;
  const bx0 = leftM, bx1 = S - rightM;
  add("background", rect(0, 0, S, S));
  add("facade", rect(bx0, skyH, bx1, S));

  let fx0 = bx0, fx1 = bx1;
  const hasPillars = rng.chance(0.3);
  if (hasPillars) {
    const pw = px(rng.range(0.03, 0.055), 2);
    add("pillar", rect(bx0, skyH, bx0 + pw, S));
    add("pillar", rect(bx1 - pw, skyH, bx1, S));
    fx0 += pw;
    fx1 -= pw;
  }
  let top = skyH;
  if (rng.chance(0.8)) {
    const ch = px(rng.range(0.025, 0.045), 2);
    const ovh = px(0.015);
    add(
      "cornice",
      rect(
        bx0 - (leftM > 0 ? ovh : 0),
        skyH,
        bx1 + (rightM > 0 ? ovh : 0),
        skyH + ch,
      ),
      {
        shadow: true,
      },
    );
    top = skyH + ch;
  }
  top += px(0.02, 1);

  const hasShop = rng.chance(0.5);
  const groundH = hasShop ? Math.round(S * rng.range(0.18, 0.26)) : 0;
  const bottom = S - groundH;
  const nFloors = Math.max(
    2,
    Math.min(6, Math.round((bottom - top) / (S * rng.range(0.15, 0.22)))),
  );
  const floorH = (bottom - top) / nFloors;
  const nCols = Math.max(
    2,
    Math.min(6, Math.round((fx1 - fx0) / (S * rng.range(0.16, 0.26)))),
  );
  const pitch = (fx1 - fx0) / nCols;
  const winW = Math.max(2, pitch * rng.range(0.4, 0.6));
  const winH = Math.max(3, floorH * rng.range(0.5, 0.66));
  const hasMolding = rng.chance(0.4);
  const hasDeco = hasMolding && rng.chance(0.5);
  const hasSill = rng.chance(0.75);
  const hasBlinds = rng.chance(0.25);
  const stringCourse = rng.chance(0.5);
  const doorCol = rng.int(nCols);
  const m = px(0.012);

  for (let f = 0; f < nFloors; f++) {
    const fy0 = top + f * floorH;
    const ground = !hasShop && f === nFloors - 1;
    if (stringCourse && f > 0) {
      add("cornice", rect(fx0, fy0 - px(0.008), fx1, fy0 + px(0.008)), {
        shadow: true,
      });
    }
    const balcony = !ground && f > 0 && rng.chance(0.25);
    const wy0 = fy0 + floorH * 0.22;
    const wy1 = Math.min(wy0 + winH, fy0 + floorH - px(0.025));
    for (let c = 0; c < nCols; c++) {
      const cx = fx0 + (c + 0.5) * pitch;
      const w = rect(cx - winW / 2, wy0, cx + winW / 2, wy1);
      if (ground && c === doorCol) {
        const dw = Math.max(3, winW * 1.15);
        if (hasMolding) {
          add(
            "molding",
            rect(cx - dw / 2 - m, fy0 + floorH * 0.12 - m, cx + dw / 2 + m, S),
          );
        }
        add("door", rect(cx - dw / 2, fy0 + floorH * 0.12, cx + dw / 2, S), {
          tone: rng.range(-12, 12),
        });
        continue;
      }
      const bw = Math.max(1, Math.round(winW * 0.42));
      if (hasBlinds) {
        add("blind", rect(w.x0 - bw, w.y0, w.x0, w.y1));
        add("blind", rect(w.x1, w.y0, w.x1 + bw, w.y1));
      }
      if (hasMolding) {
        add("molding", rect(w.x0 - m, w.y0 - m, w.x1 + m, w.y1 + m));
      }
      if (hasDeco) {
        add(
          "deco",
          rect(w.x0 - 2 * m, w.y0 - m - px(0.03, 2), w.x1 + 2 * m, w.y0 - m),
          { shadow: true },
        );
      }
      add("window", w, { lit: rng.chance(0.5), tone: rng.range(-16, 16) });
      if (hasSill && !balcony) {
        const so = px(0.01);
        add(
          "sill",
          rect(
            w.x0 - so,
            w.y1 + (hasMolding ? m : 0),
            w.x1 + so,
            w.y1 + (hasMolding ? m : 0) + px(0.016, 1),
          ),
          {
            shadow: true,
          },
        );
      }
    }
    if (balcony) {
      const by0 = wy0 + (wy1 - wy0) * 0.55;
      const by1 = wy1 + px(0.012);
      if (rng.chance(0.5)) {
        add("balcony", rect(fx0 + pitch * 0.1, by0, fx1 - pitch * 0.1, by1), {
          shadow: true,
        });
      } else {
        for (let c = 0; c < nCols; c++) {
          const cx = fx0 + (c + 0.5) * pitch;
          add("balcony", rect(cx - winW * 0.75, by0, cx + winW * 0.75, by1), {
            shadow: true,
          });
        }
      }
    }
  }
  if (hasShop) {
    const gy = S - groundH;
    if (rng.chance(0.7)) {
      add("cornice", rect(bx0, gy, bx1, gy + px(0.02, 2)), { shadow: true });
    }
    const sy0 = gy + Math.round(groundH * 0.16);
    const parts = 1 + rng.int(3);
    const gap = px(0.03, 2);
    const span = (fx1 - fx0 - gap * (parts + 1)) / parts;
    const doorIn = rng.int(parts);
    for (let k = 0; k < parts; k++) {
      const x0 = fx0 + gap + k * (span + gap);
      if (k > 0) add("pillar", rect(x0 - gap, gy, x0, S));
      add("shop", rect(x0, sy0, x0 + span, S), {
        lit: rng.chance(0.8),
        tone: rng.range(-10, 10),
      });
      if (k === doorIn) {
        const dw = Math.min(span * 0.45, Math.max(3, pitch * 0.5));
        const dx = x0 + rng.range(0.1, 0.9) * (span - dw);
        add("door", rect(dx, sy0 + (S - sy0) * 0.18, dx + dw, S), {
          tone: rng.range(-12, 12),
        });
      }
    }
  }

  // The wall follows the labels' style, so a model can infer it from the map:
  // pillars -> brick (courses, dark frames) or terracotta with moldings;
  // no pillars -> cream with moldings, else sandstone.
  const wallBase = hasPillars
    ? (hasMolding ? WALLS[3] : WALLS[1])
    : hasMolding
    ? WALLS[2]
    : WALLS[0];
  const brick = hasPillars && !hasMolding ? Math.max(3, Math.round(S / 40)) : 0;
  return {
    size: S,
    noiseSeed: rng.int(4294967296),
    elements: els,
    wall: jitterColor(wallBase, 8, rng),
    stone: jitterColor([226, 220, 204], 8, rng),
    blind: jitterColor(rng.pick(BLINDS), 10, rng),
    frame: brick > 0 ? FRAMES[1] : FRAMES[0],
    door: jitterColor(rng.pick(DOORS), 8, rng),
    sign: rng.pick(SIGNS),
    brick,
    light: rng.range(0.95, 1.05),
  };
}

/** Renders a scene's label map in {@linkcode FACADE_PALETTE} colours. */
export function renderFacadeLabels(scene: FacadeScene): Pixels {
  const map = new LabelMap(scene.size, scene.size);
  for (const e of scene.elements) map.fill(e.rect, C[e.kind]);
  return map.toPixels(FACADE_PALETTE.map((p) => p.color));
}

/** Options of {@linkcode renderFacade}. */
export interface RenderFacadeOptions {
  /** Render by night (dark sky, dim walls, about half the windows lit). @default {false} */
  night?: boolean;
}

/** Renders a scene as a photo, by day or by night. */
export function renderFacade(
  scene: FacadeScene,
  options: RenderFacadeOptions = {},
): Pixels {
  const night = options.night ?? false;
  const S = scene.size;
  const cv = new Canvas(S, S);
  const rng = createRng(scene.noiseSeed);
  const lowNoise = new ValueNoise(S, 5, rng.next);
  const fine = noiseStream(rng);
  const shadowH = Math.max(1, Math.round(S * 0.012));
  const fw = Math.max(1, Math.round(S / 128));
  const dim = (
    c: Rgb,
    k = 0.17,
  ): Rgb => [c[0] * k + 4, c[1] * k + 6, c[2] * k + 16];
  const stone = night ? dim(scene.stone, 0.2) : scene.stone;
  const wall = night ? dim(scene.wall) : scene.wall;

  for (const e of scene.elements) {
    const r = e.rect;
    switch (e.kind) {
      case "background": {
        const topC: Rgb = night ? [8, 10, 30] : [92, 146, 212];
        const horC: Rgb = night ? [30, 36, 72] : [186, 210, 236];
        cv.shade(r, (_x, y, _u, _v, o) => {
          mix(topC, horC, Math.min(1, (y / S) * 2.5), o);
          const n = fine(2.5);
          o[0] += n;
          o[1] += n;
          o[2] += n;
        });
        break;
      }
      case "facade":
        drawWall(
          cv,
          r,
          scene,
          wall,
          night ? dim([205, 200, 190]) : [205, 200, 190],
          night,
          lowNoise,
          fine,
        );
        break;
      case "pillar":
        cv.shade(r, (_x, _y, u, _v, o) => {
          const k = 0.78 + 0.27 * Math.sin(Math.PI * u);
          o[0] = stone[0] * k + fine(3);
          o[1] = stone[1] * k + fine(3);
          o[2] = stone[2] * k + fine(3);
        });
        break;
      case "cornice":
      case "deco":
      case "sill":
        cv.shade(r, (_x, _y, _u, v, o) => {
          const k = 1.08 - 0.3 * v;
          o[0] = stone[0] * k + fine(3);
          o[1] = stone[1] * k + fine(3);
          o[2] = stone[2] * k + fine(3);
        });
        break;
      case "molding":
        cv.shade(r, (_x, _y, _u, v, o) => {
          const k = 0.97 - 0.12 * v;
          o[0] = stone[0] * k + fine(3);
          o[1] = stone[1] * k + fine(3);
          o[2] = stone[2] * k + fine(3);
        });
        break;
      case "blind": {
        const c = night ? dim(scene.blind, 0.2) : scene.blind;
        const slat = Math.max(2, Math.round(S / 85));
        cv.shade(r, (_x, y, _u, _v, o) => {
          const k = (y - r.y0) % slat === slat - 1 ? 0.72 : 1;
          o[0] = c[0] * k + fine(3);
          o[1] = c[1] * k + fine(3);
          o[2] = c[2] * k + fine(3);
        });
        break;
      }
      case "window":
        drawWindow(cv, e, scene, night, fw, fine);
        break;
      case "balcony": {
        const pitch = Math.max(2, Math.round(S / 48));
        const rail = Math.max(1, Math.round(S / 96));
        const slabTop = r.y1 - Math.max(1, Math.round((r.y1 - r.y0) * 0.2));
        const bar: Rgb = night ? [10, 10, 14] : [38, 38, 42];
        cv.shade(r, (x, y, _u, _v, o) => {
          if (y >= slabTop) {
            o[0] = stone[0] * 0.8 + fine(3);
            o[1] = stone[1] * 0.8 + fine(3);
            o[2] = stone[2] * 0.8 + fine(3);
          } else if (y < r.y0 + rail || (x - r.x0) % pitch === 0) {
            o[0] = bar[0] + fine(3);
            o[1] = bar[1] + fine(3);
            o[2] = bar[2] + fine(3);
          } else {
            o[0] *= 0.55;
            o[1] *= 0.55;
            o[2] *= 0.55;
          }
        });
        break;
      }
      case "door": {
        const c = night ? dim(scene.door, 0.25) : scene.door;
        const t = e.tone ?? 0;
        const inset = Math.max(1, Math.round((r.x1 - r.x0) / 6));
        const mid = (r.x0 + r.x1) / 2;
        cv.shade(r, (x, y, _u, v, o) => {
          let k = 1 - 0.12 * v;
          const inPanel = x >= r.x0 + inset && x < r.x1 - inset &&
            y >= r.y0 + inset &&
            Math.abs(x + 0.5 - mid) >= 0.5;
          if (!inPanel) k *= 0.8;
          o[0] = (c[0] + t) * k + fine(3);
          o[1] = (c[1] + t * 0.7) * k + fine(3);
          o[2] = (c[2] + t * 0.5) * k + fine(3);
        });
        break;
      }
      case "shop": {
        const signEnd = r.y0 + Math.max(1, Math.round((r.y1 - r.y0) * 0.22));
        const kick = r.y1 - Math.max(1, Math.round((r.y1 - r.y0) * 0.08));
        const lit = night && e.lit;
        const sign: Rgb = night
          ? (e.lit ? scene.sign : dim(scene.sign, 0.3))
          : scene.sign;
        const glassTop: Rgb = lit
          ? [250, 232, 184]
          : night
          ? [14, 16, 26]
          : [86, 100, 116];
        const glassBot: Rgb = lit
          ? [214, 160, 86]
          : night
          ? [8, 9, 14]
          : [28, 34, 44];
        const t = e.tone ?? 0;
        cv.shade(r, (x, y, _u, v, o) => {
          if (y < signEnd) {
            o[0] = sign[0] + fine(3);
            o[1] = sign[1] + fine(3);
            o[2] = sign[2] + fine(3);
          } else if (y >= kick) {
            o[0] = o[1] = o[2] = (night ? 12 : 52) + fine(3);
          } else {
            mix(glassTop, glassBot, v, o);
            const streak = night
              ? 0
              : 22 * Math.max(0, 1 - Math.abs(((x - y) % 23) - 8) / 3);
            o[0] += t + streak + fine(3);
            o[1] += t + streak + fine(3);
            o[2] += t + streak + fine(3);
          }
        });
        break;
      }
    }
    if (e.shadow) cv.scale(rect(r.x0, r.y1, r.x1, r.y1 + shadowH), 0.62);
  }
  const light = scene.light;
  const d = cv.rgb;
  for (let i = 0; i < d.length; i++) d[i] = d[i] * light + fine(2);
  return cv.toPixels();
}

function drawWall(
  cv: Canvas,
  rect: Rect,
  scene: FacadeScene,
  wall: Rgb,
  mortar: Rgb,
  night: boolean,
  lowNoise: ValueNoise,
  fine: (amp: number) => number,
): void {
  const r = cv.clip(rect);
  const S = scene.size, d = cv.rgb, b = scene.brick, bw = Math.round(b * 2.3);
  for (let y = r.y0; y < r.y1; y++) {
    const row = b > 0 ? Math.floor((y - r.y0) / b) : 0;
    const mortarRow = b > 0 && (y - r.y0) % b === b - 1;
    const shift = (row % 2) * (bw >> 1);
    const g = night ? Math.max(0, (y / S - 0.6) / 0.4) ** 2 : 0; // warm street light from below
    let brickK = 1, lastBrick = -1;
    for (let x = r.x0, i = (y * cv.width + r.x0) * 3; x < r.x1; x++, i += 3) {
      let k = 1 + 0.05 * lowNoise.at(x, y);
      let c = wall;
      if (b > 0) {
        const xx = x - r.x0 + shift;
        if (mortarRow || xx % bw === 0) c = mortar;
        else {
          const brick = Math.floor(xx / bw);
          if (brick !== lastBrick) {
            brickK = 1 + 0.06 * Math.sin(row * 12.9898 + brick * 78.233);
            lastBrick = brick;
          }
          k *= brickK;
        }
      }
      d[i] = c[0] * k + fine(5) + 70 * g;
      d[i + 1] = c[1] * k + fine(5) + 44 * g;
      d[i + 2] = c[2] * k + fine(5) + 12 * g;
    }
  }
}

let noiseTable: Float32Array | null = null;

/**
 * Fast texture noise: a fixed table of triangular noise in [-1, 1] walked
 * from a random offset with a random odd stride (one RNG draw per scene
 * instead of two per pixel and channel).
 */
function noiseStream(rng: Rng): (amp: number) => number {
  if (!noiseTable) {
    const r = createRng(0x5eed);
    noiseTable = new Float32Array(1 << 16);
    for (let i = 0; i < noiseTable.length; i++) {
      noiseTable[i] = r.next() + r.next() - 1;
    }
  }
  const table = noiseTable;
  let i = rng.int(1 << 16);
  const stride = 2 * rng.int(1 << 14) + 40503;
  return (amp: number): number => {
    i = (i + stride) & 0xffff;
    return table[i] * amp;
  };
}

function drawWindow(
  cv: Canvas,
  e: Element,
  scene: FacadeScene,
  night: boolean,
  fw: number,
  fine: (amp: number) => number,
): void {
  const r = e.rect;
  const w = r.x1 - r.x0, h = r.y1 - r.y0;
  const t = e.tone ?? 0;
  const frame: Rgb = night
    ? (e.lit ? [40, 32, 24] : [16, 16, 22])
    : scene.frame;
  // Frames only where there is room for glass inside them (none on tiny windows).
  const framed = w >= 8 && h >= 8;
  const bars = w >= 14 && h >= 14;
  const midX = r.x0 + Math.floor(w / 2);
  const transom = r.y0 + Math.round(h * 0.32);
  const cx = (r.x0 + r.x1 - 1) / 2, cy = (r.y0 + r.y1 - 1) / 2;
  cv.shade(r, (x, y, u, v, o) => {
    const onFrame = (framed &&
      (x < r.x0 + fw || x >= r.x1 - fw || y < r.y0 + fw || y >= r.y1 - fw)) ||
      (bars &&
        ((x >= midX - (fw >> 1) && x < midX - (fw >> 1) + fw && y > transom) ||
          (y >= transom && y < transom + fw)));
    if (onFrame) {
      o[0] = frame[0] + fine(3);
      o[1] = frame[1] + fine(3);
      o[2] = frame[2] + fine(3);
      return;
    }
    if (!night) {
      mix([128, 146, 168], [26, 34, 48], Math.pow(v, 0.8), o);
      const streak = 26 *
        Math.max(0, 1 - Math.abs(u - (1 - v) * 0.7 - 0.1) * 6);
      o[0] += t + streak + fine(4);
      o[1] += t + streak + fine(4);
      o[2] += t + streak + fine(4);
    } else if (e.lit) {
      const dx = (x - cx) / Math.max(1, w / 2),
        dy = (y - cy) / Math.max(1, h / 2);
      const g = Math.min(1, Math.sqrt(dx * dx + dy * dy));
      mix([255, 214, 138], [206, 136, 62], g, o);
      o[0] += t * 0.5 + fine(3);
      o[1] += t * 0.4 + fine(3);
      o[2] += fine(3);
    } else {
      mix([22, 26, 40], [8, 9, 14], v, o);
      o[0] += fine(2);
      o[1] += fine(2);
      o[2] += fine(2);
    }
  });
}

/**
 * Generates `count` facade pairs: A = label map ({@linkcode FACADE_PALETTE}),
 * B = day photo. (The public pix2pix `facades` download stores photo|labels
 * and trains BtoA; here every embedded set trains AtoB.)
 */
export function generateFacades(
  count: number,
  options: GenerateOptions = {},
): GeneratedPair[] {
  const { size, seed, start } = resolveGenerateOptions(count, options);
  const out: GeneratedPair[] = [];
  for (let i = start; i < start + count; i++) {
    const scene = facadeScene(size, createRng(deriveSeed(seed, 1, i)));
    out.push({
      name: pairName(i),
      a: renderFacadeLabels(scene),
      b: renderFacade(scene),
    });
  }
  return out;
}

/** Generates `count` day → night pairs of the same facade scenes: A = by day, B = by night. */
export function generateDay2Night(
  count: number,
  options: GenerateOptions = {},
): GeneratedPair[] {
  const { size, seed, start } = resolveGenerateOptions(count, options);
  const out: GeneratedPair[] = [];
  for (let i = start; i < start + count; i++) {
    const scene = facadeScene(size, createRng(deriveSeed(seed, 2, i)));
    out.push({
      name: pairName(i),
      a: renderFacade(scene),
      b: renderFacade(scene, { night: true }),
    });
  }
  return out;
}
