/**
 * What fresh memory costs here: a new `ArrayBuffer` of each size (every page
 * touched, as the zeroing or a first write does), and reading a G output
 * back from the wasm backend (`await t.data()`, a fresh buffer each time),
 * in µs and minor page faults (`/proc/self/stat`, Linux). On the project's
 * VM a page fault costs 10–20 µs, against 0.1–0.5 µs on common hardware,
 * which is why `deno task bench` times inference to the output computed, as
 * PyTorch's loop does, not to a copy of it.
 *
 * `deno run -A bench/page_faults.ts [--reps 200]`
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { selectBackend } from "@p2p/backend";

const { values } = parseArgs({
  args: Deno.args,
  options: { reps: { type: "string", default: "200" } },
});
const reps = Number(values.reps);
if (!Number.isInteger(reps) || reps < 1) {
  throw new RangeError(
    `page_faults: --reps must be a whole number ≥ 1, received ${values.reps}`,
  );
}

/** Minor page faults of this process so far, or NaN where /proc is not there. */
function minorFaults(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7]);
  } catch {
    return NaN;
  }
}

/** µs and faults per call of `f`, over `n` calls after a few to warm up. */
async function perCall(
  n: number,
  f: () => unknown,
): Promise<[number, number]> {
  for (let i = 0; i < 5; i++) await f();
  const f0 = minorFaults();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  const us = ((performance.now() - t0) / n) * 1000;
  return [us, (minorFaults() - f0) / n];
}

const rows: string[] = [
  "| what | µs a call | page faults a call | µs a fault (if all time were faults) |",
  "|---|---|---|---|",
];
const row = (what: string, [us, faults]: [number, number]) =>
  rows.push(
    `| ${what} | ${us.toFixed(1)} | ${faults.toFixed(1)} | ${
      faults >= 1 ? (us / faults).toFixed(1) : "–"
    } |`,
  );
for (const kb of [4, 16, 64, 196, 1024, 4096]) {
  const bytes = kb * 1024;
  row(
    `new ArrayBuffer, ${kb} KB, a byte written a page`,
    await perCall(Math.max(10, Math.floor(reps * 16 / kb)), () => {
      const u = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i += 4096) u[i] = 1;
    }),
  );
}
await selectBackend({ backend: "wasm", threads: 1, log: null });
for (const size of [128, 256]) {
  const t = tf.randomUniform([1, size, size, 3]);
  row(
    `await t.data() of a [1, ${size}, ${size}, 3] output (wasm)`,
    await perCall(Math.max(10, reps / 4), () => t.data()),
  );
  t.dispose();
}
console.log(rows.join("\n"));
