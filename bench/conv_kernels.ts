/**
 * Micro-benchmark of the wasm backend's BLAS convolution kernels on the
 * pix2pix layer shapes (128² U-Net depth 7 ngf 32 + PatchGAN, or 256² depth 8
 * ngf 64): the minimum over repetitions of each kernel, per shape.
 *
 * `deno run -A bench/conv_kernels.ts [--size 128|256] [--threads N] [--reps N]
 * [--s2d auto|always|off] [--vs auto|always|off] [--fixed-threads]
 * [--winograd auto|f2|f3|off] [--winograd-vs auto|f2|f3|off]` (with
 * `--vs`, each kernel alternates between the two space-to-depth modes (with
 * `--winograd-vs`, between the two Winograd modes),
 * repetition by repetition, and both minimums are printed; `--fixed-threads`
 * alternates instead between every product on all BLAS threads and the
 * per-product choice)
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { registerFastWasmKernels } from "../backend/wasm_kernels.ts";
import { type S2dMode, setS2dMode } from "../backend/kernels/s2d_conv.ts";
import { setAdaptiveThreads } from "../backend/kernels/blas.ts";
import {
  setWinogradMode,
  type WinogradMode,
} from "../backend/kernels/winograd.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    size: { type: "string", default: "128" },
    threads: { type: "string", default: "1" },
    reps: { type: "string", default: "15" },
    s2d: { type: "string", default: "auto" },
    vs: { type: "string" },
    "fixed-threads": { type: "boolean", default: false },
    winograd: { type: "string", default: "auto" },
    "winograd-vs": { type: "string" },
  },
});
setWinogradMode(values.winograd as WinogradMode);
const size = Number(values.size);
const threads = Number(values.threads);
const reps = Number(values.reps);
const fixed = values["fixed-threads"];
setS2dMode(values.s2d as S2dMode);
const winogradVs = values["winograd-vs"];
const modes: string[] = fixed
  ? ["fixed threads", "per-product threads"]
  : winogradVs
  ? [`winograd ${values.winograd}`, `winograd ${winogradVs}`]
  : [values.s2d, values.vs].filter((m): m is string => !!m);
function setMode(i: number): void {
  if (fixed) setAdaptiveThreads(i === 1);
  else if (winogradVs) {
    setWinogradMode((i === 0 ? values.winograd : winogradVs) as WinogradMode);
  } else setS2dMode(modes[i] as S2dMode);
}

/** One layer as a convolution: input side, in channels, out channels, stride-1 ("s1") or not. */
type Layer = { h: number; ci: number; co: number; s1?: boolean };

function layers(): Layer[] {
  const ngf = size === 256 ? 64 : 32;
  const depth = size === 256 ? 8 : 7;
  const out: Layer[] = [];
  const ch = (i: number) => ngf * Math.min(8, 2 ** i);
  // G encoder.
  for (let i = 0; i < depth; i++) {
    out.push({ h: size >> i, ci: i === 0 ? 3 : ch(i - 1), co: ch(i) });
  }
  // G decoder (transposed convs) as the convolutions they transpose.
  for (let i = depth - 1; i >= 0; i--) {
    const co = i === depth - 1 ? ch(i) : 2 * ch(i);
    out.push({ h: size >> i, ci: i === 0 ? 3 : ch(i - 1), co });
  }
  // PatchGAN.
  out.push({ h: size, ci: 6, co: 64 / (64 / ngf) });
  out.push({ h: size / 2, ci: ngf, co: 2 * ngf });
  out.push({ h: size / 4, ci: 2 * ngf, co: 4 * ngf });
  out.push({ h: size / 8 + 2, ci: 4 * ngf, co: 8 * ngf, s1: true });
  out.push({ h: size / 8 + 1, ci: 8 * ngf, co: 1, s1: true });
  return out;
}

await tf.setBackend("wasm");
tf.enableProdMode();
const info = registerFastWasmKernels({ blas: "auto", blasThreads: threads });
console.log(`blas ${info.blas} threads ${info.blasThreads}`);

/** Minimum ms of `f` under each mode, the modes alternating. */
function time(f: () => tf.Tensor): number[] {
  const best = modes.map(() => Infinity);
  for (let r = 0; r < reps; r++) {
    modes.forEach((_, i) => {
      setMode(i);
      const t0 = performance.now();
      const y = f();
      const dt = performance.now() - t0;
      y.dispose();
      if (dt < best[i]) best[i] = dt;
    });
  }
  return best;
}

const ms = (v: number[]) => v.map((x) => x.toFixed(3)).join(" / ");
const totals = {
  fwd: modes.map(() => 0),
  dx: modes.map(() => 0),
  dw: modes.map(() => 0),
};
const add = (a: number[], b: number[]) => a.forEach((_, i) => a[i] += b[i]);
console.log(`| layer | fwd ms | dX ms | dW ms |  (${modes.join(" / ")})`);
for (const l of layers()) {
  const stride = l.s1 ? 1 : 2;
  const x = tf.randomNormal([1, l.h, l.h, l.ci]) as tf.Tensor4D;
  const w = tf.randomNormal([4, 4, l.ci, l.co]) as tf.Tensor4D;
  const attrs = {
    strides: [stride, stride],
    pad: l.s1 ? "valid" : "same",
    dataFormat: "NHWC",
    dilations: [1, 1],
    activation: "linear",
  };
  const run = (name: string, inputs: tf.NamedTensorMap, more = {}) => () =>
    tf.engine().runKernel(name, inputs, { ...attrs, ...more }) as tf.Tensor;
  const y = run("FusedConv2D", { x, filter: w })();
  const fwd = time(run("FusedConv2D", { x, filter: w }));
  const dx = time(
    run("Conv2DBackpropInput", { dy: y, filter: w }, { inputShape: x.shape }),
  );
  const dw = time(
    run("Conv2DBackpropFilter", { x, dy: y }, { filterShape: w.shape }),
  );
  add(totals.fwd, fwd);
  add(totals.dx, dx);
  add(totals.dw, dw);
  console.log(
    `| [${x.shape}]→[${y.shape}] | ${ms(fwd)} | ${ms(dx)} | ${ms(dw)} |`,
  );
  tf.dispose([x, w, y]);
}
console.log(
  `| total | ${ms(totals.fwd)} | ${ms(totals.dx)} | ${ms(totals.dw)} |`,
);
