/**
 * oneDNN's `dnnl_sgemm` as p2p's {@linkcode Blas}: oneDNN (`libdnnl`, which
 * Debian's python3-torch installs) picks its matrix-product kernels from the
 * CPU at run time, AVX-512 included, where an older OpenBLAS may run AVX2
 * kernels only (or be pinned to them: `OPENBLAS_CORETYPE`). On a Zen 5 core
 * its sgemm runs ~180 GFLOP/s against OpenBLAS's Haswell kernels' ~90.
 *
 * `dnnl_sgemm` is row-major, as p2p's products are; its threads are OpenMP's
 * (`libgomp`'s `omp_set_num_threads`, product by product as for OpenBLAS).
 *
 * @module
 */
import type { UnmeasuredBlas } from "./blas.ts";

/** The oneDNN library names tried, newest first. */
export const ONEDNN_CANDIDATES: readonly string[] = [
  "libdnnl.so.3",
  "libdnnl.so.2",
  "/usr/lib/x86_64-linux-gnu/libdnnl.so.3",
  "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
];

/** The oneDNN symbols p2p calls, as `Deno.dlopen` takes them. */
export const ONEDNN_SYMBOLS = {
  dnnl_sgemm: {
    parameters: [
      "u8",
      "u8",
      "i64",
      "i64",
      "i64",
      "f32",
      "buffer",
      "i64",
      "buffer",
      "i64",
      "f32",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
} as const;

/** The OpenMP call that sets oneDNN's threads (libgomp). */
export const OPENMP_SYMBOLS = {
  omp_set_num_threads: { parameters: ["i32"], result: "void" },
} as const;

const N = "N".charCodeAt(0);
const T = "T".charCodeAt(0);

/**
 * Whether oneDNN computes `op(A)·op(B)` (8–64 rows, a wide, long B) faster
 * as `(op(B)ᵀ·op(A)ᵀ)ᵀ`: measured on a Zen 5 (1.5–8× where B is transposed,
 * and where only A is on several threads), while with B as it is the direct
 * product is up to 2× faster.
 */
function fewRows(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  threads: number,
): boolean {
  return m >= 8 && m <= 64 && n >= 4 * m && n * k >= 1 << 18 &&
    (transB || (transA && threads > 1));
}

let buffer = new Float32Array(0);

function scratch(size: number): Float32Array {
  if (buffer.length < size) buffer = new Float32Array(Math.ceil(size * 1.25));
  return buffer.subarray(0, size);
}

/**
 * `C = Tᵀ + beta·C` for `T` (`n × m`, row-major) and `C` (`m × n`, leading
 * dimension `ldc`): four rows of C at a time, reading four adjacent values
 * of each row of T (twice as fast in V8 as a row of C at a time).
 */
function transposeInto(
  t: Float32Array,
  m: number,
  n: number,
  beta: number,
  c: Float32Array,
  ldc: number,
): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const r0 = i * ldc;
    const r1 = r0 + ldc;
    const r2 = r1 + ldc;
    const r3 = r2 + ldc;
    if (beta === 0) {
      for (let j = 0, s = i; j < n; j++, s += m) {
        c[r0 + j] = t[s];
        c[r1 + j] = t[s + 1];
        c[r2 + j] = t[s + 2];
        c[r3 + j] = t[s + 3];
      }
    } else {
      for (let j = 0, s = i; j < n; j++, s += m) {
        c[r0 + j] = t[s] + beta * c[r0 + j];
        c[r1 + j] = t[s + 1] + beta * c[r1 + j];
        c[r2 + j] = t[s + 2] + beta * c[r2 + j];
        c[r3 + j] = t[s + 3] + beta * c[r3 + j];
      }
    }
  }
  for (; i < m; i++) {
    const row = i * ldc;
    for (let j = 0, s = i; j < n; j++, s += m) {
      c[row + j] = beta === 0 ? t[s] : t[s] + beta * c[row + j];
    }
  }
}

/** The libraries opened so far, by path: opened once, never closed. */
const opened = new Map<
  string,
  {
    lib: Deno.DynamicLibrary<typeof ONEDNN_SYMBOLS>;
    omp: Deno.DynamicLibrary<typeof OPENMP_SYMBOLS>;
  }
>();

/** OpenMP's thread count as last set from here (one setting for the whole process). */
let ompThreads = 0;

function open(
  path: string,
  why: string[],
):
  | {
    lib: Deno.DynamicLibrary<typeof ONEDNN_SYMBOLS>;
    omp: Deno.DynamicLibrary<typeof OPENMP_SYMBOLS>;
  }
  | undefined {
  const known = opened.get(path);
  if (known) return known;
  let lib: Deno.DynamicLibrary<typeof ONEDNN_SYMBOLS>;
  try {
    lib = Deno.dlopen(path, ONEDNN_SYMBOLS);
  } catch (e) {
    why.push(`${path}: ${(e as Error).message.split("\n")[0]}`);
    return undefined;
  }
  let omp: Deno.DynamicLibrary<typeof OPENMP_SYMBOLS>;
  try {
    omp = Deno.dlopen("libgomp.so.1", OPENMP_SYMBOLS);
  } catch (e) {
    why.push(
      `${path}: no libgomp.so.1 for its threads (${
        (e as Error).message.split("\n")[0]
      })`,
    );
    return undefined; // libdnnl stays loaded: it may already run threads
  }
  const libs = { lib, omp };
  opened.set(path, libs);
  return libs;
}

/**
 * `n` clamped to `[1, loaded]` for `Blas.setThreads`; throws on what is not a
 * number, naming it.
 */
export function clampThreads(n: number, loaded: number): number {
  if (typeof n !== "number" || Number.isNaN(n)) {
    throw new RangeError(
      `Blas.setThreads: expected a thread count (clamped to [1, ${loaded}]), received ${n}`,
    );
  }
  return Math.max(1, Math.min(loaded, Math.floor(n)));
}

/** Whether a library path names oneDNN (`libdnnl…`). */
export function isOneDnn(path: string): boolean {
  return /(^|\/)libdnnl[^/]*$/.test(path);
}

/**
 * Opens oneDNN at `path` as a BLAS running products on up to
 * `threads` OpenMP threads (`parallel` says which products use more than
 * one), or returns `undefined` with the reason in `why`.
 */
export function openOneDnn(
  path: string,
  threads: number,
  parallel: (m: number, n: number, k: number) => boolean,
  why: string[],
): UnmeasuredBlas | undefined {
  const libs = open(path, why);
  if (libs === undefined) return undefined;
  const { lib, omp } = libs;
  const loaded = Math.max(1, Math.floor(threads));
  let most = loaded;
  const set = (n: number) => {
    if (n !== ompThreads) {
      omp.symbols.omp_set_num_threads(n);
      ompThreads = n;
    }
  };
  set(most);
  const sgemm = lib.symbols.dnnl_sgemm;
  const run = (
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
  ) => {
    const status = sgemm(
      transA ? T : N,
      transB ? T : N,
      BigInt(m),
      BigInt(n),
      BigInt(k),
      alpha,
      a,
      BigInt(lda),
      b,
      BigInt(ldb),
      beta,
      c,
      BigInt(ldc),
    );
    if (status !== 0) {
      throw new Error(
        `dnnl_sgemm failed with status ${status} (m ${m}, n ${n}, k ${k}, lda ${lda}, ldb ${ldb}, ldc ${ldc})`,
      );
    }
  };
  return {
    path,
    threads: loaded,
    core: "oneDNN sgemm",
    sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      const threads = most > 1 && parallel(m, n, k) ? most : 1;
      set(threads);
      if (fewRows(m, n, k, transA, transB, threads)) {
        // Cᵀ = op(B)ᵀ·op(A)ᵀ: oneDNN streams a wide B faster as the rows of
        // A than as the columns of B (see fewRows), then C = Cᵀᵀ.
        const t = scratch(n * m);
        run(!transB, !transA, n, m, k, alpha, b, ldb, a, lda, 0, t, m);
        transposeInto(t, m, n, beta, c, ldc);
        return;
      }
      run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    },
    setThreads(n: number): number {
      most = clampThreads(n, loaded);
      set(most);
      return most;
    },
    close(): void {
      // The libraries stay loaded: unloading libgomp or libdnnl under their
      // live OpenMP threads crashes the process.
    },
  };
}
