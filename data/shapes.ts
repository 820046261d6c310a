/**
 * Procedural `edges2shapes`: an outline drawing (black lines on white) of a
 * few overlapping shapes → the same shapes filled and shaded (spheres for
 * circles, a linear light gradient for polygons, a soft drop shadow), lit
 * from the top left. Pure typed-array drawing; deterministic for a seed.
 *
 * @module
 */
import {
  type GeneratedPair,
  type GenerateOptions,
  pairName,
  resolveGenerateOptions,
} from "./generator_options.ts";
import { createPixels, type Pixels } from "./image.ts";
import { createRng, deriveSeed, type Rng } from "./rng.ts";

type ShapeKind = "circle" | "ellipse" | "rect" | "triangle" | "polygon";

interface Shape {
  kind: ShapeKind;
  cx: number;
  cy: number;
  r: number;
  /** Ellipse half-axes ratio. */
  aspect: number;
  angle: number;
  /** Convex polygon vertices (counter-clockwise in image coordinates), for polygonal kinds. */
  vertices: [number, number][];
  color: [number, number, number];
}

function hsv(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number): number => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5) * 255, f(3) * 255, f(1) * 255];
}

function randomShape(S: number, rng: Rng): Shape {
  const kind = rng.pick<ShapeKind>([
    "circle",
    "ellipse",
    "rect",
    "triangle",
    "polygon",
  ]);
  const r = S * rng.range(0.12, 0.28);
  const cx = rng.range(r * 0.6, S - r * 0.6);
  const cy = rng.range(r * 0.6, S - r * 0.6);
  const angle = rng.range(0, Math.PI * 2);
  const aspect = rng.range(0.45, 0.85);
  const vertices: [number, number][] = [];
  const n = kind === "triangle"
    ? 3
    : kind === "rect"
    ? 4
    : kind === "polygon"
    ? 5 + rng.int(4)
    : 0;
  for (let k = 0; k < n; k++) {
    let a = angle + (k * 2 * Math.PI) / n;
    let rr = r;
    if (kind === "rect") {
      // a rectangle with sides in ratio ~aspect: corners at ±w, ±h
      const w = r, h = r * aspect;
      const corners = [[w, h], [-w, h], [-w, -h], [w, -h]][k];
      const c = Math.cos(angle), s = Math.sin(angle);
      vertices.push([
        cx + corners[0] * c - corners[1] * s,
        cy + corners[0] * s + corners[1] * c,
      ]);
      continue;
    }
    if (kind === "triangle") a += rng.range(-0.35, 0.35);
    rr = r * (kind === "triangle" ? rng.range(0.85, 1.1) : 1);
    vertices.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
  }
  const color = hsv(rng.next(), rng.range(0.45, 0.9), rng.range(0.6, 0.95));
  return { kind, cx, cy, r, aspect, angle, vertices, color };
}

function inside(sh: Shape, x: number, y: number): boolean {
  const dx = x - sh.cx, dy = y - sh.cy;
  if (sh.kind === "circle") return dx * dx + dy * dy <= sh.r * sh.r;
  if (sh.kind === "ellipse") {
    const c = Math.cos(sh.angle), s = Math.sin(sh.angle);
    const u = (dx * c + dy * s) / sh.r,
      v = (-dx * s + dy * c) / (sh.r * sh.aspect);
    return u * u + v * v <= 1;
  }
  const vs = sh.vertices;
  let sign = 0;
  for (let k = 0; k < vs.length; k++) {
    const [x0, y0] = vs[k], [x1, y1] = vs[(k + 1) % vs.length];
    const cross = (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0);
    if (cross !== 0) {
      const sg = cross > 0 ? 1 : -1;
      if (sign === 0) sign = sg;
      else if (sg !== sign) return false;
    }
  }
  return true;
}

/** Light direction (towards the light), in image coordinates with z out of the page. */
const LIGHT = (() => {
  const v = [-0.45, -0.6, 0.66];
  const n = Math.hypot(v[0], v[1], v[2]);
  return v.map((x) => x / n);
})();

function render(S: number, rng: Rng): { edges: Pixels; shaded: Pixels } {
  const count = 2 + rng.int(4);
  const shapes: Shape[] = [];
  for (let k = 0; k < count; k++) shapes.push(randomShape(S, rng));
  const ids = new Uint8Array(S * S); // 0 = background, k + 1 = shape k
  for (let k = 0; k < shapes.length; k++) {
    const sh = shapes[k];
    const ext = sh.r * 1.15;
    const x0 = Math.max(0, Math.floor(sh.cx - ext)),
      x1 = Math.min(S, Math.ceil(sh.cx + ext));
    const y0 = Math.max(0, Math.floor(sh.cy - ext)),
      y1 = Math.min(S, Math.ceil(sh.cy + ext));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        if (inside(sh, x + 0.5, y + 0.5)) ids[y * S + x] = k + 1;
      }
    }
  }
  // Outline: pixels whose id differs from the right or lower neighbour, thickened.
  const thick = Math.max(1, Math.round(S / 128));
  const line = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const i = y * S + x, id = ids[i];
      if (
        (x + 1 < S && ids[i + 1] !== id) || (y + 1 < S && ids[i + S] !== id)
      ) {
        for (let dy = 0; dy < thick; dy++) {
          for (let dx = 0; dx < thick; dx++) {
            if (y + dy < S && x + dx < S) line[i + dy * S + dx] = 1;
          }
        }
      }
    }
  }
  const edges = createPixels(S, S, 3);
  for (let i = 0; i < S * S; i++) {
    const v = line[i] ? 0 : 255;
    edges.data[3 * i] = edges.data[3 * i + 1] = edges.data[3 * i + 2] = v;
  }
  // Shadow mask: the union of shapes shifted down-right.
  const off = Math.max(1, Math.round(S * 0.03));
  const shaded = createPixels(S, S, 3);
  const o = shaded.data;
  const noise = (): number => (rng.next() - 0.5) * 4;
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const i = y * S + x, id = ids[i];
      let r: number, g: number, b: number;
      if (id === 0) {
        const base = 242 - 22 * (y / S);
        const sx = x - off, sy = y - off;
        const shadow = sx >= 0 && sy >= 0 && ids[sy * S + sx] !== 0 ? 0.72 : 1;
        r = g = b = base * shadow;
        b += 4 * shadow;
      } else {
        const sh = shapes[id - 1];
        let k: number;
        if (sh.kind === "circle") {
          const nx = (x + 0.5 - sh.cx) / sh.r, ny = (y + 0.5 - sh.cy) / sh.r;
          const nz = Math.sqrt(Math.max(0, 1 - nx * nx - ny * ny));
          const lambert = Math.max(
            0,
            nx * LIGHT[0] + ny * LIGHT[1] + nz * LIGHT[2],
          );
          const spec = Math.pow(Math.max(0, 2 * lambert * nz - LIGHT[2]), 24);
          k = 0.3 + 0.8 * lambert;
          r = sh.color[0] * k + 200 * spec;
          g = sh.color[1] * k + 200 * spec;
          b = sh.color[2] * k + 200 * spec;
        } else {
          const t =
            ((x + 0.5 - sh.cx) * LIGHT[0] + (y + 0.5 - sh.cy) * LIGHT[1]) /
            (sh.r * 1.2);
          k = 0.85 + 0.3 * Math.max(-1, Math.min(1, t));
          r = sh.color[0] * k;
          g = sh.color[1] * k;
          b = sh.color[2] * k;
        }
      }
      const n = noise();
      o[3 * i] = Math.max(0, Math.min(255, Math.round(r + n)));
      o[3 * i + 1] = Math.max(0, Math.min(255, Math.round(g + n)));
      o[3 * i + 2] = Math.max(0, Math.min(255, Math.round(b + n)));
    }
  }
  return { edges, shaded };
}

/**
 * Generates `count` edges → shapes pairs: A = black outlines on white, B = the
 * shapes filled and shaded.
 */
export function generateEdges2Shapes(
  count: number,
  options: GenerateOptions = {},
): GeneratedPair[] {
  const { size, seed, start } = resolveGenerateOptions(count, options);
  const out: GeneratedPair[] = [];
  for (let i = start; i < start + count; i++) {
    const { edges, shaded } = render(size, createRng(deriveSeed(seed, 3, i)));
    out.push({ name: pairName(i), a: edges, b: shaded });
  }
  return out;
}
