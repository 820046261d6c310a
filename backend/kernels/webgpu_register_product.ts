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
 * of `A` serves 8 columns and each of `B` 16 rows: at the pix2pix layers
 * 1.3–4× tfjs-webgpu's product on llvmpipe (a 128² training step there:
 * 1.55 → 1.0 s). On a hardware GPU this shape (tiny workgroups, no
 * shared tiles) is the wrong one, so p2p uses it only on software adapters
 * ({@linkcode setRegisterProducts}).
 *
 * Rows and columns past the edge are clamped on load (every load is a
 * scalar one, so `M`, `N` and `K` need no alignment) and skipped on store.
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
    private opts: Required<Omit<RegisterProductOptions, "bias" | "tile">> & {
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
  const program = new RegisterProductProgram(m, n, {
    transposeA: options.transposeA ?? false,
    transposeB: options.transposeB ?? false,
    bias: bias != null,
    activation: options.activation ?? "linear",
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
