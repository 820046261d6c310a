/**
 * oneDNN's `dnnl_sgemm` on the few-row products of pix2pix's layers, each
 * of the four transpose cases computed directly and as `(op(B)ᵀ·op(A)ᵀ)ᵀ`,
 * on each thread count, with the caches flushed before every product: the
 * measurement behind `fewRows` and `oneDnnParallelPays` in
 * `backend/kernels/`. Prints a markdown table of the best of `--reps`.
 *
 * `deno run -A bench/gemm_cases.ts [--threads 1,2] [--reps 7]
 * [--shapes 16x2048x1024,64x1024x1024,4x4096x512]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  ONEDNN_CANDIDATES,
  ONEDNN_SYMBOLS,
  OPENMP_SYMBOLS,
} from "../backend/kernels/onednn_blas.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    threads: { type: "string" },
    reps: { type: "string", default: "7" },
    shapes: {
      type: "string",
      default: "16x2048x1024,64x1024x1024,32x4096x256,8x1024x2048,4x4096x512",
    },
  },
});
const cores = navigator.hardwareConcurrency ?? 1;
const threadList = (values.threads ?? (cores > 1 ? `1,${cores}` : "1"))
  .split(",").map(Number);
const reps = Number(values.reps);
const shapes = values.shapes!.split(",").map((s) => s.split("x").map(Number));
for (const n of [...threadList, reps, ...shapes.flat()]) {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `gemm_cases: --threads, --reps and --shapes need whole numbers ≥ 1, received ${n}`,
    );
  }
}

let lib: Deno.DynamicLibrary<typeof ONEDNN_SYMBOLS> | undefined;
let path = "";
for (const candidate of ONEDNN_CANDIDATES) {
  try {
    lib = Deno.dlopen(candidate, ONEDNN_SYMBOLS);
    path = candidate;
    break;
  } catch {
    // the next one
  }
}
if (!lib) {
  console.error(
    `gemm_cases: no oneDNN (tried ${ONEDNN_CANDIDATES.join(", ")})`,
  );
  Deno.exit(1);
}
const omp = Deno.dlopen("libgomp.so.1", OPENMP_SYMBOLS);
const flush = new Float32Array(16 << 20); // 64 MB: more than the caches
const ch = (t: boolean) => (t ? 84 : 78); // 'T' : 'N' (unsigned bytes)

/** Best ms of `reps` products `C = op(A)·op(B)` (or computed transposed), caches flushed before each. */
function best(
  m: number,
  n: number,
  k: number,
  ta: boolean,
  tb: boolean,
  transposed: boolean,
): number {
  const a = new Float32Array(m * k).fill(0.5);
  const b = new Float32Array(k * n).fill(0.25);
  const c = new Float32Array(m * n);
  const lda = ta ? m : k;
  const ldb = tb ? k : n;
  let ms = Infinity;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < flush.length; i += 16) flush[i] += 1;
    const t0 = performance.now();
    const status = transposed
      ? lib!.symbols.dnnl_sgemm(
        ch(!tb),
        ch(!ta),
        BigInt(n),
        BigInt(m),
        BigInt(k),
        1,
        b,
        BigInt(ldb),
        a,
        BigInt(lda),
        0,
        c,
        BigInt(m),
      )
      : lib!.symbols.dnnl_sgemm(
        ch(ta),
        ch(tb),
        BigInt(m),
        BigInt(n),
        BigInt(k),
        1,
        a,
        BigInt(lda),
        b,
        BigInt(ldb),
        0,
        c,
        BigInt(n),
      );
    ms = Math.min(ms, performance.now() - t0);
    if (status !== 0) {
      throw new Error(`dnnl_sgemm failed with status ${status}`);
    }
  }
  return ms;
}

console.log(
  `oneDNN ${path}; best of ${reps}, caches flushed before each product\n`,
);
console.log(
  "| threads | m × n × k | op(A) | op(B) | direct ms | transposed ms | faster |",
);
console.log("|---|---|---|---|---|---|---|");
for (const threads of threadList) {
  omp.symbols.omp_set_num_threads(threads);
  for (const [m, n, k] of shapes) {
    for (
      const [ta, tb] of [[false, false], [false, true], [true, false], [
        true,
        true,
      ]]
    ) {
      const direct = best(m, n, k, ta, tb, false);
      const transposed = best(m, n, k, ta, tb, true);
      const faster = transposed < 0.9 * direct
        ? "transposed"
        : direct < 0.9 * transposed
        ? "direct"
        : "even";
      console.log(
        `| ${threads} | ${m} × ${n} × ${k} | ${ta ? "Aᵀ" : "A"} | ${
          tb ? "Bᵀ" : "B"
        } | ${direct.toFixed(3)} | ${transposed.toFixed(3)} | ${faster} |`,
      );
    }
  }
}
