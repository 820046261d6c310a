/**
 * The text of `winograd.wat`, generated from the transform matrices below
 * (which `../winograd.ts` uses too): WebAssembly SIMD loops (4 channels at a
 * time) for the input, output and filter transforms of F(2×2, 2×2),
 * F(3×3, 2×2), F(4×4, 2×2) and F(2×2, 4×4), and the filter gradients'.
 *
 * Each transform is separable, `X·D·Xᵀ` on a square tile `D` (`Bᵀ` on input
 * tiles, `Aᵀ` on output tiles, `G` on filters): the generator loads the
 * tile into locals, applies `X` down the columns and then along the rows,
 * with additions for ±1 coefficients and a multiplication otherwise, and
 * stores the results. All addresses and pitches are in bytes.
 *
 * - `in{2,3,4,24} (src, rp, k4, n, step, u, tk)`: `n` input tiles along a
 *   grid row, the first at `src` (pixel pitch `k4`, row pitch `rp`, the next
 *   tile `step` further), `U_ξ` of tile t at `u + ξ·tk + t·k4`;
 * - `out{2,3,4,24} (mm, tn, co4, n, dst, rp, step, bias)`: `n` output tiles
 *   from `M_ξ` at `mm + ξ·tn + t·co4`, plus the bias row at `bias`, into
 *   `dst` (pixel pitch `co4`, row pitch `rp`, the next tile `step` further);
 * - `w{2,3,4,24} (t0, ts, v, ks, bytes)`: the filter transform of `bytes` of
 *   the `r²` tap matrices (tap `p·r + q` at `t0 + (p·r + q)·ts`; `ts` may be
 *   negative) into `V_ξ` at `v + ξ·ks`, except the entries that are taps
 *   themselves ({@linkcode cornerTap});
 * - `dy{2,3,4,24}` and `dw{2,3,4,24}`: the filter gradients' dy tile and output
 *   transforms ({@linkcode FILTER_GRAD_VARIANTS}).
 *
 * @module
 */

/** A transform matrix: rows of coefficients. */
type Matrix = readonly (readonly number[])[];

/** One Winograd algorithm F(m×m, r×r): its tile sizes and transform matrices. */
export interface WinogradVariant {
  /** Its name in the module's exports (`in${name}`, `out${name}`, `w${name}`). */
  name: string;
  /** Output tile side. */
  m: number;
  /** Filter side. */
  r: number;
  /** `Bᵀ` (`α × α`, α = m + r − 1), applied to input tiles. */
  bt: Matrix;
  /** `Aᵀ` (`m × α`), applied to transformed products. */
  at: Matrix;
  /** `G` (`α × r`), applied to filters. */
  g: Matrix;
}

/**
 * F(2×2, 2×2) and F(3×3, 2×2) (points 0, ±1, ∞: coefficients 0, ±1, ±½),
 * F(4×4, 2×2) and F(2×2, 4×4) (points 0, ±1, 2, ∞), from the Toom-Cook construction
 * (Lavin & Gray 2016), checked by the tests against direct correlations.
 */
export const WINOGRAD_VARIANTS: readonly WinogradVariant[] = [
  {
    name: "2",
    m: 2,
    r: 2,
    bt: [[1, -1, 0], [0, 1, 0], [0, -1, 1]],
    at: [[1, 1, 0], [0, 1, 1]],
    g: [[1, 0], [1, 1], [0, 1]],
  },
  {
    name: "3",
    m: 3,
    r: 2,
    bt: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, -1, 0, 1]],
    at: [[1, 1, 1, 0], [0, 1, -1, 0], [0, 1, 1, 1]],
    g: [[1, 0], [0.5, 0.5], [0.5, -0.5], [0, 1]],
  },
  {
    name: "4",
    m: 4,
    r: 2,
    bt: [
      [2, -1, -2, 1, 0],
      [0, -2, -1, 1, 0],
      [0, 2, -3, 1, 0],
      [0, -1, 0, 1, 0],
      [0, 2, -1, -2, 1],
    ],
    at: [
      [1, 1, 1, 1, 0],
      [0, 1, -1, 2, 0],
      [0, 1, 1, 4, 0],
      [0, 1, -1, 8, 1],
    ],
    g: [[1 / 2, 0], [-1 / 2, -1 / 2], [-1 / 6, 1 / 6], [1 / 6, 1 / 3], [0, 1]],
  },
  {
    name: "24",
    m: 2,
    r: 4,
    bt: [
      [2, -1, -2, 1, 0],
      [0, -2, -1, 1, 0],
      [0, 2, -3, 1, 0],
      [0, -1, 0, 1, 0],
      [0, 2, -1, -2, 1],
    ],
    at: [[1, 1, 1, 1, 0], [0, 1, -1, 2, 1]],
    g: [
      [1 / 2, 0, 0, 0],
      [-1 / 2, -1 / 2, -1 / 2, -1 / 2],
      [-1 / 6, 1 / 6, -1 / 6, 1 / 6],
      [1 / 6, 1 / 3, 2 / 3, 4 / 3],
      [0, 0, 0, 1],
    ],
  },
];

/**
 * The tap (`p·r + q`) that entry `(i, j)` of a transformed filter is, where
 * `G`'s rows i and j each pick one filter value with coefficient 1 (such
 * entries need no transform), else `undefined`.
 */
export function cornerTap(
  v: WinogradVariant,
  i: number,
  j: number,
): number | undefined {
  const pick = (row: readonly number[]): number | undefined =>
    row.filter((c) => c !== 0).length === 1 ? row.indexOf(1) : undefined;
  const p = pick(v.g[i]);
  const q = pick(v.g[j]);
  return p === undefined || q === undefined || p < 0 || q < 0
    ? undefined
    : p * v.r + q;
}

/**
 * One Winograd algorithm for a filter gradient: `dW[p, q] = Σ_{i,j}
 * d[i + p, j + q]·dy[i, j]` over m×m tiles of dy is a correlation with an
 * m×m filter (the dy tile) and r×r outputs (the taps), F(r×r, m×m): input
 * tiles by `Bᵀ` (the same as `input`'s, whose SIMD loop it shares), dy tiles
 * by `G`, and the summed products by `Aᵀ`.
 */
export interface FilterGradVariant {
  /** Its name in the module's exports (`dy${name}`, `dw${name}`). */
  name: string;
  /** Filter side (the taps: outputs here). */
  r: number;
  /** Tile side over dy (the filter here). */
  m: number;
  /** The forward variant with the same `Bᵀ` (its input transform is this one's). */
  input: string;
  /** `Bᵀ` (`α × α`, α = m + r − 1). */
  bt: Matrix;
  /** `G` (`α × m`), applied to dy tiles. */
  g: Matrix;
  /** `Aᵀ` (`r × α`), applied to the summed products. */
  at: Matrix;
}

/** F(2×2, 2×2), F(2×2, 3×3), F(2×2, 4×4) and F(4×4, 2×2) for the filter gradients of the forward variants. */
export const FILTER_GRAD_VARIANTS: readonly FilterGradVariant[] = [
  {
    name: "2",
    r: 2,
    m: 2,
    input: "2",
    bt: [[1, -1, 0], [0, 1, 0], [0, -1, 1]],
    g: [[1, 0], [1, 1], [0, 1]],
    at: [[1, 1, 0], [0, 1, 1]],
  },
  {
    name: "3",
    r: 2,
    m: 3,
    input: "3",
    bt: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, -1, 0, 1]],
    g: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    at: [[1, 1, 1, 0], [0, 1, -1, 1]],
  },
  {
    name: "4",
    r: 2,
    m: 4,
    input: "4",
    bt: [
      [2, -1, -2, 1, 0],
      [0, -2, -1, 1, 0],
      [0, 2, -3, 1, 0],
      [0, -1, 0, 1, 0],
      [0, 2, -1, -2, 1],
    ],
    g: [
      [1 / 2, 0, 0, 0],
      [-1 / 2, -1 / 2, -1 / 2, -1 / 2],
      [-1 / 6, 1 / 6, -1 / 6, 1 / 6],
      [1 / 6, 1 / 3, 2 / 3, 4 / 3],
      [0, 0, 0, 1],
    ],
    at: [[1, 1, 1, 1, 0], [0, 1, -1, 2, 1]],
  },
  {
    name: "24",
    r: 4,
    m: 2,
    input: "24",
    bt: [
      [2, -1, -2, 1, 0],
      [0, -2, -1, 1, 0],
      [0, 2, -3, 1, 0],
      [0, -1, 0, 1, 0],
      [0, 2, -1, -2, 1],
    ],
    g: [[1 / 2, 0], [-1 / 2, -1 / 2], [-1 / 6, 1 / 6], [1 / 6, 1 / 3], [0, 1]],
    at: [
      [1, 1, 1, 1, 0],
      [0, 1, -1, 2, 0],
      [0, 1, 1, 4, 0],
      [0, 1, -1, 8, 1],
    ],
  },
];

const get = (name: string): string => `(local.get $${name})`;

/** `Σ_j row[j]·terms[j]` as a v128 expression (null when the row is all zero). */
function combine(row: readonly number[], terms: string[]): string {
  let expr: string | null = null;
  let scale: number | null = null;
  // A common factor (G's ½ rows) is applied once, after the sum.
  const nonzero = row.filter((c) => c !== 0).map(Math.abs);
  if (nonzero.length > 0 && nonzero.every((c) => c === nonzero[0])) {
    scale = nonzero[0] === 1 ? null : nonzero[0];
  }
  // Positive terms first: a sum starts without a negation where it can.
  const order = row.map((_, j) => j).sort((i, j) =>
    Number(row[i] < 0) - Number(row[j] < 0)
  );
  order.forEach((j) => {
    const c = row[j];
    if (c === 0) return;
    const unit = scale === null ? c : c / scale;
    let term = terms[j];
    if (Math.abs(unit) !== 1) {
      term = `(f32x4.mul ${term} (f32x4.splat (f32.const ${Math.abs(unit)})))`;
    }
    if (expr === null) {
      expr = unit < 0 ? `(f32x4.neg ${term})` : term;
    } else expr = `(f32x4.${unit < 0 ? "sub" : "add"} ${expr} ${term})`;
  });
  if (expr === null) throw new Error("combine: a row of zeros");
  return scale === null
    ? expr
    : `(f32x4.mul ${expr} (f32x4.splat (f32.const ${scale})))`;
}

/**
 * Locals and statements computing `X·D·Xᵀ` from locals `d{r}_{c}` into
 * locals `o{i}_{j}` (through `t{i}_{c}`).
 */
function separable(
  x: Matrix,
  size: number,
): { locals: string[]; body: string[] } {
  const rows = x.length;
  const locals: string[] = [];
  const body: string[] = [];
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < size; c++) {
      locals.push(`t${i}_${c}`);
      const terms = Array.from({ length: size }, (_, r) => get(`d${r}_${c}`));
      body.push(`(local.set $t${i}_${c} ${combine(x[i], terms)})`);
    }
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      locals.push(`o${i}_${j}`);
      const terms = Array.from({ length: size }, (_, c) => get(`t${i}_${c}`));
      body.push(`(local.set $o${i}_${j} ${combine(x[j], terms)})`);
    }
  }
  return { locals, body };
}

/** `$x1 … $x{count−1}`: multiples of a pixel pitch, set once a call. */
const offsetLocals = (count: number): string =>
  Array.from({ length: count - 1 }, (_, i) => `(local $x${i + 1} i32)`).join(
    " ",
  );

const offsetSets = (count: number, pitch: string): string[] =>
  Array.from(
    { length: count - 1 },
    (_, i) =>
      `  (local.set $x${i + 1} (i32.mul (local.get $${pitch}) (i32.const ${
        i + 1
      })))`,
  );

const v128Locals = (names: string[]): string =>
  names.map((n) => `(local $${n} v128)`).join(" ");

/** A loop over channels (`$off` from 0 to `limit` in 16-byte steps) around `body`. */
function channelLoop(limit: string, body: string[]): string[] {
  return [
    "(local.set $off (i32.const 0))",
    "(block $chans_done (loop $chans",
    `  (br_if $chans_done (i32.ge_u (local.get $off) ${limit}))`,
    ...body.map((s) => "  " + s),
    "  (local.set $off (i32.add (local.get $off) (i32.const 16)))",
    "  (br $chans)))",
  ];
}

/** A loop over `n` tiles around `body`, advancing the pointers `advance` ([local, step]). */
function tileLoop(body: string[], advance: [string, string][]): string[] {
  return [
    "(block $tiles_done (loop $tiles",
    "  (br_if $tiles_done (i32.eqz (local.get $n)))",
    ...body.map((s) => "  " + s),
    ...advance.map(([p, s]) =>
      `  (local.set $${p} (i32.add (local.get $${p}) ${s}))`
    ),
    "  (local.set $n (i32.sub (local.get $n) (i32.const 1)))",
    "  (br $tiles)))",
  ];
}

/**
 * A function applying `X·D·Xᵀ` to `n` `size × size` tiles along a row
 * (`(src, rp, k4, n, step, dst, stride)`: the tile at `src`, pixel pitch
 * `k4`, row pitch `rp`, the next `step` further; result `ξ` of tile t at
 * `dst + ξ·stride + t·k4`): `in{name}` with `Bᵀ`, `dy{name}` with `G`.
 */
function tileFunction(
  exportName: string,
  x: Matrix,
  size: number,
): string {
  const rows = x.length;
  const { locals, body } = separable(x, size);
  const loads: string[] = [];
  const tiles: string[] = [];
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      loads.push(`d${r}_${c}`);
      const addr = c === 0
        ? "(local.get $p)"
        : `(i32.add (local.get $p) (local.get $x${c}))`;
      tiles.push(`(local.set $d${r}_${c} (v128.load ${addr}))`);
    }
    tiles.push("(local.set $p (i32.add (local.get $p) (local.get $rp)))");
  }
  const stores = [
    "(local.set $q (i32.add (local.get $dst) (local.get $off)))",
  ];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      stores.push(`(v128.store (local.get $q) ${get(`o${i}_${j}`)})`);
      stores.push(
        "(local.set $q (i32.add (local.get $q) (local.get $stride)))",
      );
    }
  }
  const inner = [
    "(local.set $p (i32.add (local.get $src) (local.get $off)))",
    ...tiles,
    ...body,
    ...stores,
  ];
  return [
    `(func (export "${exportName}") (param $src i32) (param $rp i32) (param $k4 i32) (param $n i32) (param $step i32) (param $dst i32) (param $stride i32)`,
    `  (local $off i32) (local $p i32) (local $q i32) ${offsetLocals(size)} ${
      v128Locals([...loads, ...locals])
    }`,
    ...offsetSets(size, "k4"),
    ...tileLoop(channelLoop("(local.get $k4)", inner), [
      ["src", "(local.get $step)"],
      ["dst", "(local.get $k4)"],
    ]).map((s) => "  " + s),
    ")",
  ].join("\n");
}

/** `in{name}`: the input transform (see the module doc). */
function inputFunction(v: WinogradVariant): string {
  return tileFunction(`in${v.name}`, v.bt, v.m + v.r - 1);
}

/** `out{name}`: the output transform (see the module doc). */
function outputFunction(v: WinogradVariant): string {
  const { m } = v;
  const a = v.m + v.r - 1;
  const { locals, body } = separable(v.at, a);
  const loads = ["(local.set $q (i32.add (local.get $mm) (local.get $off)))"];
  const names: string[] = [];
  for (let r = 0; r < a; r++) {
    for (let c = 0; c < a; c++) {
      names.push(`d${r}_${c}`);
      loads.push(`(local.set $d${r}_${c} (v128.load (local.get $q)))`);
      loads.push("(local.set $q (i32.add (local.get $q) (local.get $tn)))");
    }
  }
  const stores = [
    "(local.set $b (v128.load (i32.add (local.get $bias) (local.get $off))))",
    "(local.set $p (i32.add (local.get $dst) (local.get $off)))",
  ];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const addr = j === 0
        ? "(local.get $p)"
        : `(i32.add (local.get $p) (local.get $x${j}))`;
      stores.push(
        `(v128.store ${addr} (f32x4.add ${get(`o${i}_${j}`)} (local.get $b)))`,
      );
    }
    stores.push("(local.set $p (i32.add (local.get $p) (local.get $rp)))");
  }
  return [
    `(func (export "out${v.name}") (param $mm i32) (param $tn i32) (param $co4 i32) (param $n i32) (param $dst i32) (param $rp i32) (param $step i32) (param $bias i32)`,
    `  (local $off i32) (local $p i32) (local $q i32) ${
      offsetLocals(m)
    } (local $b v128) ${v128Locals([...names, ...locals])}`,
    ...offsetSets(m, "co4"),
    ...tileLoop(
      channelLoop("(local.get $co4)", [...loads, ...body, ...stores]),
      [
        ["mm", "(local.get $co4)"],
        ["dst", "(local.get $step)"],
      ],
    ).map((s) => "  " + s),
    ")",
  ].join("\n");
}

/**
 * A function applying `X·D·Xᵀ` entry by entry to blocks of matrices
 * (`(src, srcStride, dst, dstStride, bytes)`: input block `(p, q)` of the
 * `size × size` at `src + (p·size + q)·srcStride`, result `(i, j)` at
 * `dst + (i·rows + j)·dstStride`, `bytes` of each; results `skip` names are
 * not stored): `w{name}` with `G`, `dw{name}` with `Aᵀ`.
 */
function blockFunction(
  exportName: string,
  x: Matrix,
  size: number,
  skip: (i: number, j: number) => boolean = () => false,
): string {
  const rows = x.length;
  const { locals, body } = separable(x, size);
  const names: string[] = [];
  const loads = ["(local.set $p (i32.add (local.get $src) (local.get $off)))"];
  for (let p = 0; p < size; p++) {
    for (let q = 0; q < size; q++) {
      names.push(`d${p}_${q}`);
      loads.push(`(local.set $d${p}_${q} (v128.load (local.get $p)))`);
      loads.push(
        "(local.set $p (i32.add (local.get $p) (local.get $src_stride)))",
      );
    }
  }
  const stores = ["(local.set $q (i32.add (local.get $dst) (local.get $off)))"];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      if (!skip(i, j)) {
        stores.push(`(v128.store (local.get $q) ${get(`o${i}_${j}`)})`);
      }
      stores.push(
        "(local.set $q (i32.add (local.get $q) (local.get $dst_stride)))",
      );
    }
  }
  return [
    `(func (export "${exportName}") (param $src i32) (param $src_stride i32) (param $dst i32) (param $dst_stride i32) (param $bytes i32)`,
    `  (local $off i32) (local $p i32) (local $q i32) ${
      v128Locals([...names, ...locals])
    }`,
    ...channelLoop("(local.get $bytes)", [...loads, ...body, ...stores]).map((
      s,
    ) => "  " + s),
    ")",
  ].join("\n");
}

/** `w{name}`: the filter transform (see the module doc); the entries that are taps are not stored. */
function weightFunction(v: WinogradVariant): string {
  return blockFunction(
    `w${v.name}`,
    v.g,
    v.r,
    (i, j) => cornerTap(v, i, j) !== undefined,
  );
}

/**
 * `dy{name} (src, rp, co4, n, step, y, tn)`: the dy tile transform (`G` on
 * `n` m×m tiles along a row, as `in{…}` reads input tiles) into `Y_ξ` at
 * `y + ξ·tn + t·co4`.
 */
function dyFunction(v: FilterGradVariant): string {
  return tileFunction(`dy${v.name}`, v.g, v.m);
}

/**
 * `dw{name} (dv, ks, t0, ts, bytes)` ({@linkcode blockFunction}'s
 * `(src, srcStride, dst, dstStride, bytes)`): the taps' gradients from the summed
 * products (`Aᵀ` on the `α²` blocks at `dv + ξ·ks`, `bytes` of each), tap
 * `p·r + q` written at `t0 + (p·r + q)·ts`.
 */
function dwFunction(v: FilterGradVariant): string {
  return blockFunction(`dw${v.name}`, v.at, v.m + v.r - 1);
}

/** The whole module's text. */
export function winogradWat(): string {
  return [
    ";; Generated by winograd_wat.ts (build_winograd.ts): do not edit.",
    ";; Winograd F(2x2, 2x2), F(3x3, 2x2), F(4x4, 2x2) and F(2x2, 4x4) transforms, 4 channels at a time.",
    "(module",
    '(import "env" "memory" (memory 0))',
    ...WINOGRAD_VARIANTS.flatMap((v) => [
      inputFunction(v),
      outputFunction(v),
      weightFunction(v),
    ]),
    ...FILTER_GRAD_VARIANTS.flatMap((v) => [dyFunction(v), dwFunction(v)]),
    ")",
    "",
  ].join("\n");
}
