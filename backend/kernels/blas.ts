/**
 * An optional native BLAS through Deno FFI, for the wasm backend's
 * convolutions: OpenBLAS's `cblas_sgemm` runs on the wasm heap in place (the
 * heap views are passed as FFI buffers, no copies) at native AVX2/AVX-512
 * speed, about 5× what XNNPACK reaches inside wasm.
 *
 * Only an optimised BLAS is used (one that exports `openblas_set_num_threads`,
 * i.e. OpenBLAS; Debian's reference `libblas3` is slower than wasm). It needs
 * the `ffi` permission; without it, or without the library, there is none.
 *
 * @module
 */

/** Row-major single-precision GEMM: `C = alpha · op(A) · op(B) + beta · C`. */
export interface Blas {
  /** Path of the loaded library. */
  readonly path: string;
  /** Threads the BLAS computes with. */
  readonly threads: number;
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
 * Opens an optimised BLAS (OpenBLAS) through FFI, or returns `undefined` with
 * the reason in `why` when there is none usable (no `ffi` permission, no
 * library, a library that is not OpenBLAS).
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
  const paths = [options.path, env, ...CANDIDATES].filter((p): p is string =>
    !!p
  );
  for (const path of paths) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch (e) {
      if (path === options.path || path === env) {
        why.push(`${path}: ${(e as Error).message.split("\n")[0]}`);
      }
      continue;
    }
    const wanted = options.threads ?? envThreads() ??
      (globalThis.navigator?.hardwareConcurrency || 1);
    lib.symbols.openblas_set_num_threads(Math.max(1, Math.floor(wanted)));
    const threads = lib.symbols.openblas_get_num_threads();
    const sgemm = lib.symbols.cblas_sgemm;
    return {
      path,
      threads,
      sgemm(
        transA,
        transB,
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
      ): void {
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
      close(): void {
        lib.close();
      },
    };
  }
  why.push(
    `no OpenBLAS found (tried ${
      paths.join(", ")
    }; Debian: apt-get install libopenblas0-pthread)`,
  );
  return undefined;
}
