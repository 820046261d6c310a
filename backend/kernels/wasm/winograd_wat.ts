/**
 * The text of `winograd.wat`, generated from the transform matrices of
 * `../winograd.ts`: WebAssembly SIMD loops (4 channels at a time) for the
 * input, output and filter transforms of F(2×2, 2×2) and F(3×3, 2×2).
 *
 * Each transform is separable, `X·D·Xᵀ` on a square tile `D` (`Bᵀ` on input
 * tiles, `Aᵀ` on output tiles, `G` on 2×2 filters): the generator loads the
 * tile into locals, applies `X` down the columns and then along the rows,
 * with additions for ±1 coefficients and a multiplication otherwise, and
 * stores the results. All addresses and pitches are in bytes.
 *
 * - `in2` / `in3 (src, rp, k4, n, step, u, tk)`: `n` input tiles along a
 *   grid row, the first at `src` (pixel pitch `k4`, row pitch `rp`, the next
 *   tile `step` further), `U_ξ` of tile t at `u + ξ·tk + t·k4`;
 * - `out2` / `out3 (mm, tn, co4, n, dst, rp, step, bias)`: `n` output tiles
 *   from `M_ξ` at `mm + ξ·tn + t·co4`, plus the bias row at `bias`, into
 *   `dst` (pixel pitch `co4`, row pitch `rp`, the next tile `step` further);
 * - `w2` / `w3 (t00, t01, t10, t11, v, ks, bytes)`: the filter transform of
 *   `bytes` of four tap matrices into `V_ξ` at `v + ξ·ks`, except the
 *   corners, which are the taps themselves.
 *
 * @module
 */

/** A transform matrix: rows of coefficients. */
type Matrix = readonly (readonly number[])[];

/** `Bᵀ`, `Aᵀ` and `G` of F(m×m, 2×2), m = 2 and 3 (as in `../winograd.ts`). */
export const WINOGRAD_MATRICES: Record<
  2 | 3,
  { bt: Matrix; at: Matrix; g: Matrix }
> = {
  2: {
    bt: [[1, -1, 0], [0, 1, 0], [0, -1, 1]],
    at: [[1, 1, 0], [0, 1, 1]],
    g: [[1, 0], [1, 1], [0, 1]],
  },
  3: {
    bt: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, -1, 0, 1]],
    at: [[1, 1, 1, 0], [0, 1, -1, 0], [0, 1, 1, 1]],
    g: [[1, 0], [0.5, 0.5], [0.5, -0.5], [0, 1]],
  },
};

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

/** `in{m}`: the input transform (see the module doc). */
function inputFunction(m: 2 | 3): string {
  const a = m + 1;
  const { locals, body } = separable(WINOGRAD_MATRICES[m].bt, a);
  const loads: string[] = [];
  const tiles: string[] = [];
  for (let r = 0; r < a; r++) {
    for (let c = 0; c < a; c++) {
      loads.push(`d${r}_${c}`);
      const addr = c === 0
        ? "(local.get $p)"
        : `(i32.add (local.get $p) (local.get $x${c}))`;
      tiles.push(`(local.set $d${r}_${c} (v128.load ${addr}))`);
    }
    tiles.push("(local.set $p (i32.add (local.get $p) (local.get $rp)))");
  }
  const stores = ["(local.set $q (i32.add (local.get $u) (local.get $off)))"];
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < a; j++) {
      stores.push(`(v128.store (local.get $q) ${get(`o${i}_${j}`)})`);
      stores.push("(local.set $q (i32.add (local.get $q) (local.get $tk)))");
    }
  }
  const inner = [
    "(local.set $p (i32.add (local.get $src) (local.get $off)))",
    ...tiles,
    ...body,
    ...stores,
  ];
  return [
    `(func (export "in${m}") (param $src i32) (param $rp i32) (param $k4 i32) (param $n i32) (param $step i32) (param $u i32) (param $tk i32)`,
    `  (local $off i32) (local $p i32) (local $q i32) ${offsetLocals(a)} ${
      v128Locals([...loads, ...locals])
    }`,
    ...offsetSets(a, "k4"),
    ...tileLoop(channelLoop("(local.get $k4)", inner), [
      ["src", "(local.get $step)"],
      ["u", "(local.get $k4)"],
    ]).map((s) => "  " + s),
    ")",
  ].join("\n");
}

/** `out{m}`: the output transform (see the module doc). */
function outputFunction(m: 2 | 3): string {
  const a = m + 1;
  const { locals, body } = separable(WINOGRAD_MATRICES[m].at, a);
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
    `(func (export "out${m}") (param $mm i32) (param $tn i32) (param $co4 i32) (param $n i32) (param $dst i32) (param $rp i32) (param $step i32) (param $bias i32)`,
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

/** `w{m}`: the filter transform (see the module doc). */
function weightFunction(m: 2 | 3): string {
  const a = m + 1;
  const { locals, body } = separable(WINOGRAD_MATRICES[m].g, 2);
  const taps = ["t00", "t01", "t10", "t11"];
  const loads = taps.map((t) =>
    `(local.set $d${t[1]}_${
      t[2]
    } (v128.load (i32.add (local.get $${t}) (local.get $off))))`
  );
  const stores = ["(local.set $q (i32.add (local.get $v) (local.get $off)))"];
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < a; j++) {
      const corner = (i === 0 || i === a - 1) && (j === 0 || j === a - 1);
      if (!corner) {
        stores.push(`(v128.store (local.get $q) ${get(`o${i}_${j}`)})`);
      }
      stores.push("(local.set $q (i32.add (local.get $q) (local.get $ks)))");
    }
  }
  return [
    `(func (export "w${m}") (param $t00 i32) (param $t01 i32) (param $t10 i32) (param $t11 i32) (param $v i32) (param $ks i32) (param $bytes i32)`,
    `  (local $off i32) (local $q i32) ${
      v128Locals(["d0_0", "d0_1", "d1_0", "d1_1", ...locals])
    }`,
    ...channelLoop("(local.get $bytes)", [...loads, ...body, ...stores]).map((
      s,
    ) => "  " + s),
    ")",
  ].join("\n");
}

/** The whole module's text. */
export function winogradWat(): string {
  return [
    ";; Generated by winograd_wat.ts (build_winograd.ts): do not edit.",
    ";; Winograd F(2x2, 2x2) and F(3x3, 2x2) transforms, 4 channels at a time.",
    "(module",
    '(import "env" "memory" (memory 0))',
    ...[2, 3].flatMap((m) => [
      inputFunction(m as 2 | 3),
      outputFunction(m as 2 | 3),
      weightFunction(m as 2 | 3),
    ]),
    ")",
    "",
  ].join("\n");
}
