/**
 * The Winograd transforms as JavaScript loops, for the correlations whose
 * buffers the SIMD loops cannot reach (off the scratch arena, or channels not
 * in fours): unrolled for F(2×2, 2×2) and F(3×3, 2×2), and a generic loop on
 * the matrices of `wasm/winograd_wat.ts` for the rest (F(2×2, 4×4)). The
 * layouts are those of `winograd.ts` (element offsets, not bytes).
 *
 * @module
 */
import {
  cornerTap,
  type FilterGradVariant,
  type WinogradVariant,
} from "./wasm/winograd_wat.ts";

/**
 * An input tile function: reads the `α × α` tile at `g[base …]` (pixel pitch
 * `k`, row pitch `rp`) and writes `U_ξ` at `u[uo + ξ·tk …]` for `k` channels.
 */
export type InputTile = (
  g: Float32Array,
  base: number,
  rp: number,
  k: number,
  u: Float32Array,
  uo: number,
  tk: number,
) => void;

/**
 * An output tile function: reads `M_ξ` at `mm[mo + ξ·tn …]` and writes the
 * `m × m` tile plus the bias row at `out[base …]` (pixel pitch `co`, row
 * pitch `rp`).
 */
export type OutputTile = (
  mm: Float32Array,
  mo: number,
  tn: number,
  co: number,
  bias: Float32Array,
  out: Float32Array,
  base: number,
  rp: number,
) => void;

/** `X·D·Xᵀ` of an `size × size` tile `d` (row-major) into `o` (`X` rows squared), in float64. */
function separable(
  x: readonly (readonly number[])[],
  size: number,
  d: Float64Array,
  t: Float64Array,
  o: Float64Array,
): void {
  const rows = x.length;
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < size; c++) {
      let sum = 0;
      for (let r = 0; r < size; r++) sum += x[i][r] * d[r * size + c];
      t[i * size + c] = sum;
    }
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      let sum = 0;
      for (let c = 0; c < size; c++) sum += x[j][c] * t[i * size + c];
      o[i * rows + j] = sum;
    }
  }
}

/**
 * A tile function applying `X·D·Xᵀ` (`X`: rows × `size`) to `size × size`
 * tiles (pixel pitch = channels, row pitch `rp`), writing the `rows²`
 * results a channel at `out[oo + ξ·stride + ch]`.
 */
function separableTile(
  x: readonly (readonly number[])[],
  size: number,
): InputTile {
  const rows = x.length;
  const d = new Float64Array(size * size);
  const t = new Float64Array(rows * size);
  const o = new Float64Array(rows * rows);
  return (g, base, rp, k, out, oo, stride) => {
    for (let ch = 0; ch < k; ch++) {
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          d[r * size + c] = g[base + r * rp + c * k + ch];
        }
      }
      separable(x, size, d, t, o);
      for (let xi = 0; xi < rows * rows; xi++) {
        out[oo + xi * stride + ch] = o[xi];
      }
    }
  };
}

/** The input tile function of `v`. */
export function inputTile(v: WinogradVariant): InputTile {
  if (v.name === "2") return inputTile2;
  if (v.name === "3") return inputTile3;
  return separableTile(v.bt, v.m + v.r - 1);
}

/** The output tile function of `v`. */
export function outputTile(v: WinogradVariant): OutputTile {
  if (v.name === "2") return outputTile2;
  if (v.name === "3") return outputTile3;
  const a = v.m + v.r - 1;
  const { m } = v;
  const d = new Float64Array(a * a);
  const t = new Float64Array(m * a);
  const o = new Float64Array(m * m);
  return (mm, mo, tn, co, bias, out, base, rp) => {
    for (let ch = 0; ch < co; ch++) {
      for (let xi = 0; xi < a * a; xi++) d[xi] = mm[mo + xi * tn + ch];
      separable(v.at, a, d, t, o);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          out[base + i * rp + j * co + ch] = o[i * m + j] + bias[ch];
        }
      }
    }
  };
}

/**
 * `V_ξ = (G·g·Gᵀ)_ξ` for each of the `kn` entries of the `r²` tap matrices,
 * `α²` blocks `ks` apart; the entries that are taps ({@linkcode cornerTap})
 * are not written.
 */
export function weightTransform(
  v: WinogradVariant,
  taps: Float32Array[],
  kn: number,
  out: Float32Array,
  ks: number,
): void {
  if (v.name === "2" || v.name === "3") {
    unrolledWeights(v.name === "2" ? 2 : 3, taps, kn, out, ks);
    return;
  }
  const a = v.m + v.r - 1;
  const r = v.r;
  const d = new Float64Array(r * r);
  const t = new Float64Array(a * r);
  const o = new Float64Array(a * a);
  const keep: number[] = [];
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < a; j++) {
      if (cornerTap(v, i, j) === undefined) keep.push(i * a + j);
    }
  }
  for (let e = 0; e < kn; e++) {
    for (let p = 0; p < r * r; p++) d[p] = taps[p][e];
    separable(v.g, r, d, t, o);
    for (const xi of keep) out[xi * ks + e] = o[xi];
  }
}

/**
 * A filter gradient's dy tile function: reads the m×m tile at `dy[base …]`
 * (pixel pitch `co`, row pitch `rp`) and writes `Y_ξ = (G·dy·Gᵀ)_ξ` at
 * `y[yo + ξ·tn …]` for `co` channels.
 */
export function dyTile(v: FilterGradVariant): InputTile {
  return separableTile(v.g, v.m);
}

/**
 * The taps' gradients `(Aᵀ·dV·A)[p, q]` for each of the `kn` entries, from
 * the `α²` blocks of `dv` (`ks` apart) into `taps[p·r + q]`.
 */
export function filterOutput(
  v: FilterGradVariant,
  dv: Float32Array,
  ks: number,
  taps: Float32Array[],
  kn: number,
): void {
  const a = v.m + v.r - 1;
  const d = new Float64Array(a * a);
  const t = new Float64Array(v.r * a);
  const o = new Float64Array(v.r * v.r);
  for (let e = 0; e < kn; e++) {
    for (let xi = 0; xi < a * a; xi++) d[xi] = dv[xi * ks + e];
    separable(v.at, a, d, t, o);
    for (let p = 0; p < v.r * v.r; p++) taps[p][e] = o[p];
  }
}

/** F(2×2, 2×2) and F(3×3, 2×2) filter transforms, unrolled. */
function unrolledWeights(
  m: 2 | 3,
  taps: Float32Array[],
  kn: number,
  v: Float32Array,
  ks: number,
): void {
  const [t00, t01, t10, t11] = taps;
  if (m === 2) {
    // G = [[1, 0], [1, 1], [0, 1]].
    for (let e = 0; e < kn; e++) {
      const g00 = t00[e], g01 = t01[e], g10 = t10[e], g11 = t11[e];
      const s0 = g00 + g01, s1 = g10 + g11;
      const c0 = g00 + g10, c1 = s0 + s1, c2 = g01 + g11;
      v[ks + e] = s0;
      v[3 * ks + e] = c0;
      v[4 * ks + e] = c1;
      v[5 * ks + e] = c2;
      v[7 * ks + e] = s1;
    }
    return;
  }
  // G = [[1, 0], [½, ½], [½, −½], [0, 1]].
  for (let e = 0; e < kn; e++) {
    const g00 = t00[e], g01 = t01[e], g10 = t10[e], g11 = t11[e];
    // Along columns (q), each row p: h_p = [g_p0, (g_p0+g_p1)/2, (g_p0−g_p1)/2, g_p1].
    const h01 = 0.5 * (g00 + g01), h02 = 0.5 * (g00 - g01);
    const h11 = 0.5 * (g10 + g11), h12 = 0.5 * (g10 - g11);
    // Along rows: V[0] = h0, V[1] = (h0+h1)/2, V[2] = (h0−h1)/2, V[3] = h1.
    v[ks + e] = h01;
    v[2 * ks + e] = h02;
    v[4 * ks + e] = 0.5 * (g00 + g10);
    v[5 * ks + e] = 0.5 * (h01 + h11);
    v[6 * ks + e] = 0.5 * (h02 + h12);
    v[7 * ks + e] = 0.5 * (g01 + g11);
    v[8 * ks + e] = 0.5 * (g00 - g10);
    v[9 * ks + e] = 0.5 * (h01 - h11);
    v[10 * ks + e] = 0.5 * (h02 - h12);
    v[11 * ks + e] = 0.5 * (g01 - g11);
    v[13 * ks + e] = h11;
    v[14 * ks + e] = h12;
  }
}

/** F(2×2, 2×2) input tile: `Bᵀ = [[1, −1, 0], [0, 1, 0], [0, −1, 1]]` on both axes. */
function inputTile2(
  g: Float32Array,
  base: number,
  rp: number,
  k: number,
  u: Float32Array,
  uo: number,
  tk: number,
): void {
  for (let ch = 0; ch < k; ch++) {
    const o = base + ch;
    const d00 = g[o], d01 = g[o + k], d02 = g[o + 2 * k];
    const d10 = g[o + rp], d11 = g[o + rp + k], d12 = g[o + rp + 2 * k];
    const o2 = o + 2 * rp;
    const d20 = g[o2], d21 = g[o2 + k], d22 = g[o2 + 2 * k];
    // Rows: r0 = d0 − d1, r1 = d1, r2 = d2 − d1.
    const a0 = d00 - d10, a1 = d01 - d11, a2 = d02 - d12;
    const c0 = d20 - d10, c1 = d21 - d11, c2 = d22 - d12;
    const x = uo + ch;
    u[x] = a0 - a1;
    u[x + tk] = a1;
    u[x + 2 * tk] = a2 - a1;
    u[x + 3 * tk] = d10 - d11;
    u[x + 4 * tk] = d11;
    u[x + 5 * tk] = d12 - d11;
    u[x + 6 * tk] = c0 - c1;
    u[x + 7 * tk] = c1;
    u[x + 8 * tk] = c2 - c1;
  }
}

/** F(3×3, 2×2) input tile: `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, −1, 0, 1]]`. */
function inputTile3(
  g: Float32Array,
  base: number,
  rp: number,
  k: number,
  u: Float32Array,
  uo: number,
  tk: number,
): void {
  const k2 = 2 * k, k3 = 3 * k;
  for (let ch = 0; ch < k; ch++) {
    let o = base + ch;
    const d00 = g[o], d01 = g[o + k], d02 = g[o + k2], d03 = g[o + k3];
    o += rp;
    const d10 = g[o], d11 = g[o + k], d12 = g[o + k2], d13 = g[o + k3];
    o += rp;
    const d20 = g[o], d21 = g[o + k], d22 = g[o + k2], d23 = g[o + k3];
    o += rp;
    const d30 = g[o], d31 = g[o + k], d32 = g[o + k2], d33 = g[o + k3];
    // Down the columns.
    const a0 = d00 - d20, a1 = d01 - d21, a2 = d02 - d22, a3 = d03 - d23;
    const b0 = d10 + d20, b1 = d11 + d21, b2 = d12 + d22, b3 = d13 + d23;
    const c0 = d20 - d10, c1 = d21 - d11, c2 = d22 - d12, c3 = d23 - d13;
    const e0 = d30 - d10, e1 = d31 - d11, e2 = d32 - d12, e3 = d33 - d13;
    // Along the rows.
    const x = uo + ch;
    u[x] = a0 - a2;
    u[x + tk] = a1 + a2;
    u[x + 2 * tk] = a2 - a1;
    u[x + 3 * tk] = a3 - a1;
    u[x + 4 * tk] = b0 - b2;
    u[x + 5 * tk] = b1 + b2;
    u[x + 6 * tk] = b2 - b1;
    u[x + 7 * tk] = b3 - b1;
    u[x + 8 * tk] = c0 - c2;
    u[x + 9 * tk] = c1 + c2;
    u[x + 10 * tk] = c2 - c1;
    u[x + 11 * tk] = c3 - c1;
    u[x + 12 * tk] = e0 - e2;
    u[x + 13 * tk] = e1 + e2;
    u[x + 14 * tk] = e2 - e1;
    u[x + 15 * tk] = e3 - e1;
  }
}

/** F(2×2, 2×2) output tile: `Aᵀ = [[1, 1, 0], [0, 1, 1]]` on both axes. */
function outputTile2(
  mm: Float32Array,
  mo: number,
  tn: number,
  co: number,
  bias: Float32Array,
  out: Float32Array,
  base: number,
  rp: number,
): void {
  for (let ch = 0; ch < co; ch++) {
    const x = mo + ch;
    const m0 = mm[x], m1 = mm[x + tn], m2 = mm[x + 2 * tn];
    const m3 = mm[x + 3 * tn], m4 = mm[x + 4 * tn], m5 = mm[x + 5 * tn];
    const m6 = mm[x + 6 * tn], m7 = mm[x + 7 * tn], m8 = mm[x + 8 * tn];
    // Down the columns (y0 = M0 + M1, y1 = M1 + M2), then along the rows.
    const top0 = m0 + m3, top1 = m1 + m4, top2 = m2 + m5;
    const bot0 = m3 + m6, bot1 = m4 + m7, bot2 = m5 + m8;
    const bb = bias[ch];
    const o = base + ch;
    out[o] = top0 + top1 + bb;
    out[o + co] = top1 + top2 + bb;
    out[o + rp] = bot0 + bot1 + bb;
    out[o + rp + co] = bot1 + bot2 + bb;
  }
}

/** F(3×3, 2×2) output tile: `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, 0], [0, 1, 1, 1]]`. */
function outputTile3(
  mm: Float32Array,
  mo: number,
  tn: number,
  co: number,
  bias: Float32Array,
  out: Float32Array,
  base: number,
  rp: number,
): void {
  const co2 = 2 * co;
  for (let ch = 0; ch < co; ch++) {
    let x = mo + ch;
    const m00 = mm[x], m01 = mm[x + tn], m02 = mm[x + 2 * tn];
    const m03 = mm[x + 3 * tn];
    x += 4 * tn;
    const m10 = mm[x], m11 = mm[x + tn], m12 = mm[x + 2 * tn];
    const m13 = mm[x + 3 * tn];
    x += 4 * tn;
    const m20 = mm[x], m21 = mm[x + tn], m22 = mm[x + 2 * tn];
    const m23 = mm[x + 3 * tn];
    x += 4 * tn;
    const m30 = mm[x], m31 = mm[x + tn], m32 = mm[x + 2 * tn];
    const m33 = mm[x + 3 * tn];
    // Down the columns: rows y0 = M0+M1+M2, y1 = M1−M2, y2 = M1+M2+M3.
    const p0 = m10 + m20, p1 = m11 + m21, p2 = m12 + m22, p3 = m13 + m23;
    const a0 = m00 + p0, a1 = m01 + p1, a2 = m02 + p2, a3 = m03 + p3;
    const b0 = m10 - m20, b1 = m11 - m21, b2 = m12 - m22, b3 = m13 - m23;
    const c0 = p0 + m30, c1 = p1 + m31, c2 = p2 + m32, c3 = p3 + m33;
    const bb = bias[ch];
    let o = base + ch;
    const qa = a1 + a2, qb = b1 + b2, qc = c1 + c2;
    out[o] = a0 + qa + bb;
    out[o + co] = a1 - a2 + bb;
    out[o + co2] = qa + a3 + bb;
    o += rp;
    out[o] = b0 + qb + bb;
    out[o + co] = b1 - b2 + bb;
    out[o + co2] = qb + b3 + bb;
    o += rp;
    out[o] = c0 + qc + bb;
    out[o + co] = c1 - c2 + bb;
    out[o + co2] = qc + c3 + bb;
  }
}
