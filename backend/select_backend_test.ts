import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { probeGpu, selectBackend } from "./select_backend.ts";

const deno = Deno.execPath();

/** Runs selectBackend in a fresh process with `env`; returns its JSON result or error. */
async function selectInChild(
  options: string,
  env: Record<string, string>,
): Promise<{ ok: boolean; out: string; err: string }> {
  const code = `import { selectBackend } from "${
    new URL("./mod.ts", import.meta.url).href
  }";
try { const c = await selectBackend(${options}); console.log(JSON.stringify(c)); }
catch (e) { console.log(JSON.stringify({ error: e.message })); }`;
  const cmd = new Deno.Command(deno, {
    args: ["eval", "--ext=ts", code],
    env,
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  return {
    ok: r.success,
    out: new TextDecoder().decode(r.stdout).trim(),
    err: new TextDecoder().decode(r.stderr),
  };
}

Deno.test("selectBackend: explicit cpu and wasm start and are reported", async () => {
  const lines: string[] = [];
  const cpu = await selectBackend({
    backend: "cpu",
    log: (s) => lines.push(s),
  });
  assert.equal(cpu.backend, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  const wasm = await selectBackend({
    backend: "wasm",
    log: (s) => lines.push(s),
  });
  assert.equal(wasm.backend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.match(lines.join("\n"), /backend cpu on .*\n.*backend wasm on/);
});

Deno.test("selectBackend: rejects an unknown backend name, naming it", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => selectBackend({ backend: "tpu" as any, log: null }),
    /backend must be one of auto, webgpu, wasm, cpu, received "tpu"/,
  );
});

Deno.test("selectBackend: auto skips a software adapter unless allowed", async () => {
  const probe = await probeGpu();
  const auto = await selectBackend({ log: null });
  if (probe.adapter && probe.software) {
    assert.equal(auto.backend, "wasm");
    assert.match(auto.reason, /software WebGPU adapter/);
    const sw = await selectBackend({ allowSoftwareGpu: true, log: null });
    assert.equal(sw.backend, "webgpu");
    assert.match(sw.adapter, /software/);
  } else if (probe.adapter) {
    assert.equal(auto.backend, "webgpu");
  } else {
    assert.equal(auto.backend, "wasm");
  }
  await selectBackend({ backend: "cpu", log: null });
});

Deno.test("selectBackend: without an adapter, auto falls back to wasm and webgpu is a clear error", async () => {
  // Vulkan only, with no Vulkan driver manifest: requestAdapter() finds no adapter
  // (Mesa's lavapipe, which Chromium's packages pull in, is hidden too).
  const probeCode = await selectInChild("{ backend: 'auto', log: null }", {
    DENO_WEBGPU_BACKEND: "vulkan",
    VK_ICD_FILENAMES: "/nonexistent/p2p-no-icd.json",
    VK_DRIVER_FILES: "/nonexistent/p2p-no-icd.json",
  });
  const auto = JSON.parse(probeCode.out);
  const gpu = await selectInChild("{ backend: 'webgpu', log: null }", {
    DENO_WEBGPU_BACKEND: "vulkan",
    VK_ICD_FILENAMES: "/nonexistent/p2p-no-icd.json",
    VK_DRIVER_FILES: "/nonexistent/p2p-no-icd.json",
  });
  const forced = JSON.parse(gpu.out);
  if (auto.backend === "webgpu" || forced.backend === "webgpu") {
    // A Vulkan adapter exists (a GPU, or Mesa's lavapipe that Chromium's
    // packages pull in): auto must still refuse a software one unasked.
    if (forced.backend === "webgpu" && /software/.test(forced.adapter ?? "")) {
      assert.equal(auto.backend, "wasm", probeCode.err);
    }
    console.log(
      "  (a Vulkan adapter exists here; the no-adapter path was not reachable)",
    );
    return;
  }
  assert.equal(auto.backend, "wasm", probeCode.err);
  assert.match(auto.reason, /no WebGPU adapter|software/);
  assert.match(
    forced.error,
    /--backend webgpu: (no WebGPU adapter|could not start)/,
  );
});

Deno.test("selectBackend: honours OPENBLAS_NUM_THREADS / OMP_NUM_THREADS and the threads option, printing them", async () => {
  const env = await selectInChild("{ backend: 'wasm', log: null }", {
    OPENBLAS_NUM_THREADS: "1",
  });
  const viaEnv = JSON.parse(env.out);
  assert.match(viaEnv.adapter, /1 wasm thread \(OPENBLAS_NUM_THREADS=1\)/);
  if (/BLAS/.test(viaEnv.adapter)) {
    assert.match(viaEnv.adapter, /1 BLAS thread\)/);
  }
  const omp = JSON.parse(
    (await selectInChild("{ backend: 'wasm', log: null }", {
      OMP_NUM_THREADS: "1",
    })).out,
  );
  assert.match(omp.adapter, /\(OMP_NUM_THREADS=1\)/);
  const opt = JSON.parse(
    (await selectInChild("{ backend: 'wasm', threads: 1, log: null }", {
      OMP_NUM_THREADS: "2",
    })).out,
  );
  assert.match(opt.adapter, /1 wasm thread \(threads\)/);
  const two = JSON.parse(
    (await selectInChild("{ backend: 'wasm', threads: 2, log: null }", {}))
      .out,
  );
  if (/BLAS/.test(two.adapter) && 4 > navigator.hardwareConcurrency) {
    // Two pools of 2 do not fit: the BLAS computes with the threads.
    assert.match(
      two.adapter,
      /1 wasm thread \(threads: 2 threads to the BLAS\).*, 2 BLAS threads\)/,
    );
  } else assert.match(two.adapter, /2 wasm threads \(threads\)/);
  const explicit = JSON.parse(
    (await selectInChild(
      "{ backend: 'wasm', threads: 2, wasmThreads: 2, log: null }",
      {},
    )).out,
  );
  assert.match(explicit.adapter, /wasm thread/);
  assert.doesNotMatch(explicit.adapter, /to the BLAS/);
  const bad = JSON.parse(
    (await selectInChild("{ backend: 'wasm', log: null }", {
      OMP_NUM_THREADS: "two",
    })).out,
  );
  assert.match(
    bad.error,
    /OMP_NUM_THREADS must be a positive integer, received "two"/,
  );
});
