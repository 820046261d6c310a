/**
 * An optional native BLAS through Deno FFI, for the wasm backend's
 * convolutions: oneDNN's `dnnl_sgemm` (`onednn_blas.ts`) or OpenBLAS's
 * `cblas_sgemm` runs on the wasm heap in place (the heap views are passed as
 * FFI buffers, no copies) at native AVX2/AVX-512 speed, 5–10× what XNNPACK
 * reaches inside wasm.
 *
 * Only an optimised BLAS is used (oneDNN, or one that exports
 * `openblas_set_num_threads`, i.e. OpenBLAS; Debian's reference `libblas3` is
 * slower than wasm). It needs the `ffi` permission; without it, or without
 * the library, there is none.
 *
 * @module
 */
import {
  clampThreads,
  isOneDnn,
  ONEDNN_CANDIDATES,
  openOneDnn,
} from "./onednn_blas.ts";

/** Row-major single-precision GEMM: `C = alpha · op(A) · op(B) + beta · C`. */
export interface Blas {
  /** Path of the loaded library. */
  readonly path: string;
  /** Threads the BLAS was loaded with (the most one product uses). */
  readonly threads: number;
  /** Its kernels: OpenBLAS's core name (`Haswell`, `SkylakeX`, …), or oneDNN's sgemm. */
  readonly core: string;
  /** Multiply-adds a nanosecond on one thread (a 256³ product, measured at load): what cost models weigh other work against. */
  readonly macsPerNs: number;
  /**
   * `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`, row-major, with
   * leading dimensions `lda`, `ldb`, `ldc`.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /**
   * Sets the most threads a product uses (at most the count the BLAS was
   * loaded with, at least 1; thin products use 1, see
   * {@linkcode parallelPays}) and returns the count now set.
   */
  setThreads(n: number): number;
  /** Closes the library. */
  close(): void;
}

/** Options of {@linkcode loadBlas}. */
export interface LoadBlasOptions {
  /** Library path; tried before the usual OpenBLAS names. @default Deno.env P2P_BLAS, then libopenblas.so.0 */
  path?: string;
  /**
   * Threads for the BLAS.
   * @default OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS when set, else
   * navigator.hardwareConcurrency
   */
  threads?: number;
}

const CANDIDATES = [
  "libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "libopenblas.so",
  "libopenblas.dylib",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
];

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_corename: { parameters: [], result: "pointer" },
} as const;

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

function ffiGranted(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

function envPath(): string | undefined {
  try {
    return Deno.env.get("P2P_BLAS") || undefined;
  } catch {
    return undefined;
  }
}

/** OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, when set to a positive integer. */
function envThreads(): number | undefined {
  for (const name of ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"]) {
    try {
      const n = Number(Deno.env.get(name));
      if (Number.isInteger(n) && n >= 1) return n;
    } catch {
      return undefined; // no env permission
    }
  }
  return undefined;
}

/**
 * Whether a product is worth the BLAS's threads: OpenBLAS splits the output
 * between them, which loses on small or thin products (few rows or columns, a
 * short inner dimension, under ~4M multiply-adds: measured on pix2pix's
 * layers, 2 threads take up to twice as long as 1 there), except a single
 * row (a matrix-vector product, bound by reading the matrix, which two cores
 * read faster).
 */
export function parallelPays(m: number, n: number, k: number): boolean {
  if (m === 1) return n * k >= 1 << 18;
  return m >= 16 && n >= 16 && k >= 16 && m * n * k >= 1 << 22;
}

let adaptive = true;

/**
 * Turns the per-product thread choice ({@linkcode parallelPays}) on or off
 * (off: every product on all threads; for benchmarks); returns the previous
 * setting.
 */
export function setAdaptiveThreads(on: boolean): boolean {
  const was = adaptive;
  adaptive = on;
  return was;
}

/**
 * Opens an optimised BLAS through FFI: oneDNN's sgemm where `libdnnl` is
 * installed (it dispatches to the CPU's widest vectors, see
 * `onednn_blas.ts`), else OpenBLAS; or returns `undefined` with the reason
 * in `why` when there is none usable (no `ffi` permission, no library, a
 * library that is neither). `options.path` / `P2P_BLAS` name one library to
 * try first (a `libdnnl…` path is opened as oneDNN).
 */
export function loadBlas(
  options: LoadBlasOptions = {},
  why: string[] = [],
): Blas | undefined {
  if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") {
    why.push("Deno.dlopen is unavailable");
    return undefined;
  }
  if (!ffiGranted()) {
    why.push("no ffi permission (run with --allow-ffi)");
    return undefined;
  }
  const env = envPath();
  const explicit = [options.path, env].filter((p): p is string => !!p);
  const paths = [...explicit, ...ONEDNN_CANDIDATES, ...CANDIDATES];
  const wanted = options.threads ?? envThreads() ??
    (globalThis.navigator?.hardwareConcurrency || 1);
  for (const path of paths) {
    const reasons: string[] = [];
    const blas = isOneDnn(path)
      ? openOneDnn(path, wanted, parallelNow(oneDnnParallelPays), reasons)
      : openOpenBlas(path, wanted, reasons);
    if (blas) return { ...blas, macsPerNs: singleThreadRate(blas) };
    if (explicit.includes(path)) why.push(...reasons);
  }
  why.push(
    `no oneDNN or OpenBLAS found (tried ${
      paths.join(", ")
    }; Debian: apt-get install libopenblas0-pthread, or python3-torch's libdnnl2)`,
  );
  return undefined;
}

/** A BLAS before its rate is measured. */
export type UnmeasuredBlas = Omit<Blas, "macsPerNs">;

/**
 * Multiply-adds a nanosecond of `blas` on one thread: the best of three 256³
 * products after one warm-up. Its products may use all `blas.threads`
 * threads again afterwards.
 */
export function singleThreadRate(blas: UnmeasuredBlas): number {
  const n = 256;
  const a = new Float32Array(n * n).fill(0.5);
  const c = new Float32Array(n * n);
  blas.setThreads(1);
  let best = Infinity;
  try {
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      blas.sgemm(false, false, n, n, n, 1, a, n, a, n, 0, c, n);
      if (i > 0) best = Math.min(best, performance.now() - t0);
    }
  } finally {
    // All the threads it was loaded with (setThreads(1) returned 1, not the
    // count before: restoring that left every product on one thread).
    blas.setThreads(blas.threads);
  }
  return n ** 3 / (Math.max(best, 1e-3) * 1e6);
}

/**
 * {@linkcode parallelPays} for oneDNN: also products of fewer than 16 rows
 * whose B holds a million values or more (bound by reading B, which two
 * cores read faster: measured 1.3–1.6× for 4 rows by 2–8 MB of weights,
 * where OpenBLAS loses).
 */
export function oneDnnParallelPays(m: number, n: number, k: number): boolean {
  return parallelPays(m, n, k) || (m < 16 && n >= 16 && n * k >= 1 << 20);
}

/** `rule` where the per-product choice is on, else always. */
function parallelNow(
  rule: (m: number, n: number, k: number) => boolean,
): (m: number, n: number, k: number) => boolean {
  return (m, n, k) => !adaptive || rule(m, n, k);
}

/** {@linkcode parallelPays} where the per-product choice is on, else always. */
const parallelPaysNow = parallelNow(parallelPays);

/** OpenBLAS at `path` on up to `wanted` threads, or `undefined` (reason in `why`). */
function openOpenBlas(
  path: string,
  wanted: number,
  why: string[],
): UnmeasuredBlas | undefined {
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (e) {
    why.push(`${path}: ${(e as Error).message.split("\n")[0]}`);
    return undefined;
  }
  lib.symbols.openblas_set_num_threads(Math.max(1, Math.floor(wanted)));
  const threads = lib.symbols.openblas_get_num_threads();
  const sgemm = lib.symbols.cblas_sgemm;
  const setNum = lib.symbols.openblas_set_num_threads;
  let most = threads;
  let now = threads;
  return {
    path,
    threads,
    core: `OpenBLAS ${coreName(lib.symbols.openblas_get_corename())} kernels`,
    sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): void {
      const want = most > 1 && parallelPaysNow(m, n, k) ? most : 1;
      if (want !== now) {
        setNum(want);
        now = want;
      }
      sgemm(
        ROW_MAJOR,
        transA ? TRANS : NO_TRANS,
        transB ? TRANS : NO_TRANS,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc,
      );
    },
    setThreads(n: number): number {
      most = clampThreads(n, threads);
      setNum(most);
      now = lib.symbols.openblas_get_num_threads();
      return now;
    },
    close(): void {
      lib.close();
    },
  };
}

/** OpenBLAS's core name from `openblas_get_corename`'s C string. */
function coreName(p: Deno.PointerValue): string {
  if (p === null) return "(core unknown)";
  try {
    return new Deno.UnsafePointerView(p).getCString().trim() ||
      "(core unknown)";
  } catch {
    return "(core unknown)";
  }
}
