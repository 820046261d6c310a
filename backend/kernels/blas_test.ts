import assert from "node:assert/strict";
import {
  type Blas,
  loadBlas,
  oneDnnParallelPays,
  parallelPays,
  singleThreadRate,
} from "./blas.ts";
import { BLAS_AVAILABLE } from "./test_util.ts";

Deno.test("parallelPays: thin, short or small products stay on one thread", () => {
  assert.equal(parallelPays(1024, 64, 512), true);
  assert.equal(parallelPays(16, 256, 4096), true);
  assert.equal(parallelPays(4, 512, 4096), false); // few rows
  assert.equal(parallelPays(4225, 12, 32), false); // few columns
  assert.equal(parallelPays(4096, 256, 4), false); // short inner dimension
  assert.equal(parallelPays(4290, 24, 32), false); // under 4M multiply-adds
  assert.equal(parallelPays(1, 256, 4096), true); // matrix-vector: reading bound
  assert.equal(parallelPays(1, 16, 16), false);
});

/** `C = A·B` the slow way, row-major. */
function naive(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
) {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

Deno.test({
  name:
    "Blas: products agree across thread counts; setThreads clamps to [1, loaded]",
  ignore: !BLAS_AVAILABLE,
  fn: () => {
    const blas = loadBlas({ threads: 2 })!;
    try {
      assert.equal(blas.setThreads(0), 1);
      assert.throws(() => blas.setThreads(NaN), /received NaN/);
      assert.ok(blas.setThreads(99) <= blas.threads);
      for (const [m, n, k] of [[4, 512, 64], [300, 40, 400], [1, 700, 600]]) {
        const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
        const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
        const want = naive(m, n, k, a, b);
        for (const t of [1, 2]) {
          blas.setThreads(t);
          const c = new Float32Array(m * n);
          blas.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
          for (let i = 0; i < c.length; i++) {
            assert.ok(
              Math.abs(c[i] - want[i]) < 1e-3 * Math.sqrt(k),
              `[${m},${n},${k}] at ${i}`,
            );
          }
        }
      }
    } finally {
      blas.close();
    }
  },
});

/** Each BLAS library found here, by explicit path. */
const LIBRARIES = ["libdnnl.so.2", "libdnnl.so.3", "libopenblas.so.0"].filter(
  (path) => {
    const why: string[] = [];
    const blas = loadBlas({ path }, why);
    const found = blas?.path === path;
    blas?.close();
    return found;
  },
);

for (const path of LIBRARIES) {
  Deno.test(`Blas on ${path}: transposes, leading dimensions, alpha and beta = a direct product (few rows and wide too)`, () => {
    const blas = loadBlas({ path, threads: 2 })!;
    try {
      assert.equal(blas.path, path);
      assert.match(blas.core, /oneDNN|OpenBLAS/);
      assert.ok(blas.macsPerNs > 0, `rate ${blas.macsPerNs}`);
      for (const shape of [[37, 29, 53], [16, 300, 900], [13, 300, 900]]) {
        checkProducts(blas, shape);
      }
    } finally {
      blas.close();
    }
  });
}

/** All four transpose combinations of one `[m, n, k]` product, padded leading dimensions, alpha 2 and beta ½, on 1 and 2 threads. */
function checkProducts(blas: Blas, [m, n, k]: number[]): void {
  const pad = 3;
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
  const want = naive(m, n, k, a, b);
  // Aᵀ (k × m) and Bᵀ (n × k), all with padded leading dimensions.
  const at = new Float32Array(k * (m + pad));
  const bt = new Float32Array(n * (k + pad));
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) at[p * (m + pad) + i] = a[i * k + p];
  }
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < n; j++) bt[j * (k + pad) + p] = b[p * n + j];
  }
  const ldc = n + pad;
  for (
    const [ta, tb] of [[false, false], [true, false], [false, true], [
      true,
      true,
    ]]
  ) {
    for (const t of [1, 2]) {
      blas.setThreads(t);
      const c = new Float32Array(m * ldc).fill(1);
      blas.sgemm(
        ta,
        tb,
        m,
        n,
        k,
        2,
        ta ? at : a,
        ta ? m + pad : k,
        tb ? bt : b,
        tb ? k + pad : n,
        0.5,
        c,
        ldc,
      );
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const got = c[i * ldc + j];
          const exp = 2 * want[i * n + j] + 0.5;
          assert.ok(
            Math.abs(got - exp) < 1e-3 * Math.sqrt(k),
            `ta ${ta} tb ${tb} threads ${t} at [${i}, ${j}]: ${got} vs ${exp}`,
          );
        }
      }
    }
  }
}

Deno.test("singleThreadRate measures on one thread, then gives the products all the threads the BLAS was loaded with", () => {
  const calls: number[] = [];
  let most = 4;
  const fake = {
    path: "fake",
    threads: 4,
    core: "fake",
    sgemm: () => {
      assert.equal(most, 1, "measured on one thread");
    },
    setThreads(n: number): number {
      calls.push(n);
      most = Math.max(1, Math.min(4, n));
      return most;
    },
    close: () => {},
  };
  const rate = singleThreadRate(fake);
  assert.ok(rate > 0);
  assert.deepEqual(calls, [1, 4]);
  assert.equal(most, 4);
});

Deno.test("oneDnnParallelPays: also few rows by a large B (reading bound); small products stay on one thread", () => {
  assert.equal(oneDnnParallelPays(4, 512, 4096), true);
  assert.equal(oneDnnParallelPays(4, 4096, 512), true);
  assert.equal(oneDnnParallelPays(8, 256, 2048), false); // half a million values of B
  assert.equal(oneDnnParallelPays(4225, 12, 32), false);
  assert.equal(oneDnnParallelPays(196, 1, 4096), false);
  assert.equal(oneDnnParallelPays(1024, 64, 512), true);
});
