/**
 * A matrix product for software WebGPU adapters (Mesa llvmpipe): `C = A · B`
 * (either operand transposed), plus an optional bias per column and a
 * linear / relu / leaky-relu activation, with no workgroup memory.
 *
 * llvmpipe runs a workgroup as 8-wide SIMD on a CPU thread and loads from a
 * storage buffer one lane at a time (a loop over the lanes with a bounds
 * check each), while arithmetic on registers is cheap: a product there is
 * bound by the number of loads, not of multiply-adds. tfjs-webgpu's tiled
 * product loads each operand twice (global to workgroup memory, then
 * workgroup memory to registers) and an invocation's 4 × 4 outputs reuse
 * each loaded value 4 times. Here a workgroup is one SIMD vector of 8
 * invocations (along the columns, and along the rows too where `N` is
 * narrow); each computes 16 rows (fewer where `M` < 16) × 8 columns (4
 * where `N` ≤ 4) of `C` straight from global memory, so each loaded value
 * of `A` serves 8 columns and each of `B` 16 rows. Where the sizes allow
 * ({@linkcode vec4Layout}), the operands are read as `vec4<f32>`: llvmpipe
 * loads a `vec4` in one pass over the lanes. At the pix2pix layers on
 * llvmpipe this is about 2–4× tfjs-webgpu's product (4× where it would
 * transpose an operand first). On a hardware GPU this shape (tiny
 * workgroups, no shared tiles) is the wrong one, so p2p uses it only on
 * software adapters ({@linkcode setRegisterProducts}).
 *
 * Rows and columns past the edge are clamped on load and skipped on store;
 * the scalar program needs no alignment of `M`, `N` or `K`.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import {
  int32Uniform,
  type WebGpuBackendLike,
  type WebGpuProgram,
} from "./webgpu_program.ts";

/** Most output rows an invocation (and a workgroup) computes. */
export const REGISTER_ROWS = 16;
/** Invocations a workgroup: one llvmpipe SIMD vector. */
const LANES = 8;
/** `K` values an iteration of the inner loop takes. */
const K_STEP = 4;

/** Activations the product's epilogue applies. */
export type ProductActivation = "linear" | "relu" | "leakyrelu";

/** What {@linkcode registerProduct} computes besides `A · B`. */
export interface RegisterProductOptions {
  /** `A` is stored `[K, M]`. @default false */
  transposeA?: boolean;
  /** `B` is stored `[N, K]`. @default false */
  transposeB?: boolean;
  /** Added to each row: `N` values. */
  bias?: tf.TensorInfo | null;
  /** Applied last. @default "linear" */
  activation?: ProductActivation;
  /** Leaky-relu's slope. @default 0.2 */
  alpha?: number;
  /**
   * Rows and columns an invocation computes (benchmarks).
   * @default {@linkcode registerRows}, {@linkcode registerColumns}
   */
  tile?: { rows: number; cols: number };
  /** Scalar loads even where {@linkcode vec4Layout} allows `vec4` ones (tests, benchmarks). @default false */
  scalar?: boolean;
}

/**
 * Rows an invocation computes for `m` output rows: 16, or the power of two
 * at or above `m` where that is fewer (each row costs loads of `A` whether
 * it is in the output or not).
 */
export function registerRows(m: number): number {
  let rows = 1;
  while (rows < m && rows < REGISTER_ROWS) rows *= 2;
  return rows;
}

/** Columns an invocation computes for `n` output columns: 8, or 4 for at most 4. */
export function registerColumns(n: number): number {
  return n <= 4 ? 4 : 8;
}

/**
 * Invocations of a workgroup (8) along the columns for `n` output columns
 * of `cols` an invocation: as many as the columns need, up to 8, a power of
 * two; the rest of the 8 go along the rows (a 32-column output still keeps
 * every SIMD lane busy).
 */
export function registerLanesX(n: number, cols: number): number {
  let lanes = 1;
  while (lanes * cols < n && lanes < LANES) lanes *= 2;
  return lanes;
}

let enabled = false;

/** Whether p2p's WebGPU kernels run their products on {@linkcode registerProduct}. */
export function registerProductsEnabled(): boolean {
  return enabled;
}

/**
 * Makes p2p's WebGPU convolutions (forward, filter and input gradients) run
 * their matrix products on {@linkcode registerProduct} (`true`: software
 * adapters) or on tfjs-webgpu's product and convolution kernels (`false`,
 * the default).
 */
export function setRegisterProducts(on: boolean): void {
  enabled = on;
}

/** WGSL applying `act` to the `f32` variable `v`. */
function epilogue(act: ProductActivation): string {
  if (act === "relu") return "v = max(v, 0.0);";
  if (act === "leakyrelu") {
    return "v = select(v * uniforms.alpha, v, v >= 0.0);";
  }
  return "";
}

/** `result[M, N] = act(A · B + bias)`, 16 × `cols` outputs an invocation. */
class RegisterProductProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = "M : i32, N : i32, K : i32, alpha : f32,";
  workgroupSize: [number, number, number];
  private rows: number;
  private cols: number;

  constructor(
    m: number,
    n: number,
    private opts:
      & Required<
        Omit<RegisterProductOptions, "bias" | "tile" | "scalar">
      >
      & {
        bias: boolean;
      },
    tile?: { rows: number; cols: number },
  ) {
    this.outputShape = [m, n];
    this.rows = tile?.rows ?? registerRows(m);
    this.cols = tile?.cols ?? registerColumns(n);
    const lanesX = registerLanesX(n, this.cols);
    const lanesY = LANES / lanesX;
    this.workgroupSize = [lanesX, lanesY, 1];
    this.variableNames = opts.bias ? ["A", "B", "bias"] : ["A", "B"];
    this.shaderKey =
      `p2pRegisterProduct_${this.rows}_${this.cols}_${lanesX}_${+opts
        .transposeA}${+opts.transposeB}_${+opts.bias}_${opts.activation}`;
    this.dispatch = [
      Math.ceil(n / (this.cols * lanesX)),
      Math.ceil(m / (this.rows * lanesY)),
      1,
    ];
  }

  getUserCode(): string {
    const rows = [...Array(this.rows).keys()];
    const cols = [...Array(this.cols).keys()];
    const { transposeA, transposeB } = this.opts;
    // Element (row r, k) of A and (k, column c) of B, as offsets: the row
    // or column part is fixed per invocation, the k part per iteration.
    const aRow = (i: number) => transposeA ? `ra${i}` : `ra${i} * uniforms.K`;
    const bCol = (j: number) => transposeB ? `cb${j} * uniforms.K` : `cb${j}`;
    const aK = transposeA ? "kk * uniforms.M" : "kk";
    const bK = transposeB ? "kk" : "kk * uniforms.N";
    const step = (kk: string) =>
      /* wgsl */ `{
      let kk = ${kk};
      let ak = ${aK};
      let bk = ${bK};
      ${cols.map((j) => `let b${j} = B[ob${j} + bk];`).join(" ")}
      ${
        rows.map((i) =>
          `{ let a = A[oa${i} + ak]; ${
            cols.map((j) => `acc${i}_${j} = fma(a, b${j}, acc${i}_${j});`).join(
              " ",
            )
          } }`
        ).join("\n      ")
      }
    }`;
    return /* wgsl */ `
fn main() {
  let m0 = i32(globalId.y) * ${this.rows};
  let n0 = i32(globalId.x) * ${this.cols};
  ${
      rows.map((i) =>
        `let ra${i} = min(m0 + ${i}, uniforms.M - 1); let oa${i} = ${aRow(i)};`
      ).join("\n  ")
    }
  ${
      cols.map((j) =>
        `let cb${j} = min(n0 + ${j}, uniforms.N - 1); let ob${j} = ${bCol(j)};`
      ).join("\n  ")
    }
  ${
      rows.map((i) => cols.map((j) => `var acc${i}_${j} = 0.0;`).join(" "))
        .join("\n  ")
    }
  let kMain = uniforms.K - uniforms.K % ${K_STEP};
  for (var k = 0; k < kMain; k += ${K_STEP}) {
    ${[...Array(K_STEP).keys()].map((t) => step(`k + ${t}`)).join("\n    ")}
  }
  for (var k = kMain; k < uniforms.K; k++) {
    ${step("k")}
  }
  ${
      rows.map((i) => cols.map((j) => this.store(i, j)).join("\n  ")).join(
        "\n  ",
      )
    }
}
`;
  }

  /** WGSL storing output (row `i`, column `j`) of the invocation. */
  private store(i: number, j: number): string {
    const bias = this.opts.bias ? ` + bias[n0 + ${j}]` : "";
    return `if (m0 + ${i} < uniforms.M && n0 + ${j} < uniforms.N) { var v = acc${i}_${j}${bias}; ${
      epilogue(this.opts.activation)
    } result[(m0 + ${i}) * uniforms.N + n0 + ${j}] = v; }`;
  }
}

/** How {@linkcode Vec4ProductProgram} reads its operands, or `null` where the sizes do not allow `vec4` loads. */
export type Vec4Layout = "alongK" | "alongM" | null;

/**
 * The `vec4` layout of a product: `alongK` (`A` untransposed, 4 values of
 * a row along `K`; `B` 4 columns a load, or 4 `K` values of a column where
 * transposed) needs `K` and `N` multiples of 4; `alongM` (`A` transposed, 4
 * rows a load; `B` untransposed) needs `M` and `N` multiples of 4.
 */
export function vec4Layout(
  m: number,
  n: number,
  k: number,
  transposeA: boolean,
  transposeB: boolean,
): Vec4Layout {
  if (n % 4 !== 0) return null;
  if (!transposeA) return k % 4 === 0 ? "alongK" : null;
  return !transposeB && m % 4 === 0 ? "alongM" : null;
}

/**
 * {@linkcode RegisterProductProgram} with `vec4<f32>` bindings: llvmpipe
 * loads a `vec4` in one pass over the lanes, so a quarter of the loads
 * (1.4–2× faster at the pix2pix layers).
 */
class Vec4ProductProgram implements WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = "M : i32, N : i32, K : i32, alpha : f32,";
  workgroupSize: [number, number, number];
  outputComponent = 4;
  private rows: number;
  private groups: number;

  constructor(
    m: number,
    n: number,
    private layout: "alongK" | "alongM",
    private opts: {
      transposeB: boolean;
      bias: boolean;
      activation: ProductActivation;
    },
  ) {
    this.outputShape = [m, n];
    this.rows = layout === "alongM"
      ? Math.max(4, registerRows(m))
      : registerRows(m);
    const cols = registerColumns(n);
    this.groups = cols / 4;
    const lanesX = registerLanesX(n, cols);
    this.workgroupSize = [lanesX, LANES / lanesX, 1];
    this.variableNames = opts.bias ? ["A", "B", "bias"] : ["A", "B"];
    this.shaderKey =
      `p2pRegisterProduct4_${layout}_${this.rows}_${cols}_${lanesX}_${+opts
        .transposeB}_${+opts.bias}_${opts.activation}`;
    this.dispatch = [
      Math.ceil(n / (cols * lanesX)),
      Math.ceil(m / (this.rows * (LANES / lanesX))),
      1,
    ];
  }

  getUserCode(): string {
    const rows = [...Array(this.rows).keys()];
    const groups = [...Array(this.groups).keys()];
    const fmas = (a: (i: number) => string, b: (g: number) => string) =>
      rows.map((i) =>
        groups.map((g) =>
          `acc${i}_${g} = fma(vec4<f32>(${a(i)}), ${b(g)}, acc${i}_${g});`
        ).join(" ")
      ).join("\n    ");
    return /* wgsl */ `
fn main() {
  let M4 = uniforms.M / 4;
  let N4 = uniforms.N / 4;
  let K4 = uniforms.K / 4;
  let m0 = i32(globalId.y) * ${this.rows};
  let g0 = i32(globalId.x) * ${this.groups};
  ${groups.map((g) => `let og${g} = min(g0 + ${g}, N4 - 1);`).join("\n  ")}
  ${
      rows.map((i) =>
        groups.map((g) => `var acc${i}_${g} = vec4<f32>(0.0);`).join(" ")
      ).join("\n  ")
    }
  ${this.layout === "alongK" ? this.alongK(fmas) : this.alongM(fmas)}
  ${rows.map((i) => groups.map((g) => this.store(i, g)).join(" ")).join("\n  ")}
}
`;
  }

  /** The loop over `K` in steps of 4: `A`'s rows and `B` as `vec4`s along `K` (or `N`). */
  private alongK(
    fmas: (a: (i: number) => string, b: (g: number) => string) => string,
  ): string {
    const rows = [...Array(this.rows).keys()];
    const cols = [...Array(this.groups * 4).keys()];
    const ts = [0, 1, 2, 3];
    const head = rows.map((i) =>
      `let oa${i} = min(m0 + ${i}, uniforms.M - 1) * K4;`
    );
    let loadB: string;
    let b: (t: number) => (g: number) => string;
    if (this.opts.transposeB) {
      head.push(
        ...cols.map((j) =>
          `let ob${j} = min(g0 * 4 + ${j}, uniforms.N - 1) * K4;`
        ),
      );
      loadB = cols.map((j) => `let bt${j} = B[ob${j} + k4];`).join(" ");
      b = (t) => (g) =>
        `vec4<f32>(${
          [0, 1, 2, 3].map((c) => `bt${4 * g + c}[${t}]`).join(", ")
        })`;
    } else {
      loadB = ts.map((t) =>
        [...Array(this.groups).keys()].map((g) =>
          `let b${t}_${g} = B[(k4 * 4 + ${t}) * N4 + og${g}];`
        ).join(" ")
      ).join("\n    ");
      b = (t) => (g) => `b${t}_${g}`;
    }
    return /* wgsl */ `${head.join("\n  ")}
  for (var k4 = 0; k4 < K4; k4++) {
    ${rows.map((i) => `let a${i} = A[oa${i} + k4];`).join(" ")}
    ${loadB}
    ${ts.map((t) => fmas((i) => `a${i}[${t}]`, b(t))).join("\n    ")}
  }`;
  }

  /** The loop over `K` one at a time: `A` transposed, 4 rows a `vec4`; `B` 4 columns a `vec4`. */
  private alongM(
    fmas: (a: (i: number) => string, b: (g: number) => string) => string,
  ): string {
    const quads = [...Array(this.rows / 4).keys()];
    const groups = [...Array(this.groups).keys()];
    return /* wgsl */ `${
      quads.map((q) => `let oq${q} = min(m0 / 4 + ${q}, M4 - 1);`).join(
        "\n  ",
      )
    }
  for (var k = 0; k < uniforms.K; k++) {
    ${quads.map((q) => `let at${q} = A[k * M4 + oq${q}];`).join(" ")}
    ${groups.map((g) => `let b${g} = B[k * N4 + og${g}];`).join(" ")}
    ${fmas((i) => `at${i >> 2}[${i & 3}]`, (g) => `b${g}`)}
  }`;
  }

  /** WGSL storing the invocation's row `i`, column group `g`. */
  private store(i: number, g: number): string {
    const bias = this.opts.bias ? ` + bias[g0 + ${g}]` : "";
    const act = this.opts.activation === "relu"
      ? "v = max(v, vec4<f32>(0.0));"
      : this.opts.activation === "leakyrelu"
      ? "v = select(v * uniforms.alpha, v, v >= vec4<f32>(0.0));"
      : "";
    return `if (m0 + ${i} < uniforms.M && g0 + ${g} < N4) { var v = acc${i}_${g}${bias}; ${act} result[(m0 + ${i}) * N4 + g0 + ${g}] = v; }`;
  }
}

/**
 * `act(A · B + bias)` as a float32 `[m, n]` tensor, `A` `[m, k]` (or `[k,
 * m]` with `transposeA`), `B` `[k, n]` (or `[n, k]`), both float32 and
 * read flat whatever their shapes. The caller frees the result.
 */
export function registerProduct(
  backend: WebGpuBackendLike,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  dims: { m: number; n: number; k: number },
  options: RegisterProductOptions = {},
): tf.TensorInfo {
  const { m, n, k } = dims;
  const bias = options.bias ?? null;
  const transposeA = options.transposeA ?? false;
  const transposeB = options.transposeB ?? false;
  const activation = options.activation ?? "linear";
  const layout = options.tile || options.scalar
    ? null
    : vec4Layout(m, n, k, transposeA, transposeB);
  const program = layout
    ? new Vec4ProductProgram(m, n, layout, {
      transposeB,
      bias: bias != null,
      activation,
    })
    : new RegisterProductProgram(m, n, {
      transposeA,
      transposeB,
      bias: bias != null,
      activation,
      alpha: options.alpha ?? 0.2,
    }, options.tile);
  return backend.runWebGPUProgram(
    program,
    bias != null ? [a, b, bias] : [a, b],
    "float32",
    [
      int32Uniform(m),
      int32Uniform(n),
      int32Uniform(k),
      { type: "float32", data: [options.alpha ?? 0.2] },
    ],
  );
}
