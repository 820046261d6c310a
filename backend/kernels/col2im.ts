/**
 * col2im into a tensor on the wasm heap through the scratch arena: the
 * product writes `cols` into the arena, `wasm/col2im.wat` adds it into an
 * arena copy of dX four values at a time (the JavaScript loop's sums, bit
 * for bit), and one copy moves dX to the heap. Where WebAssembly SIMD does
 * not load, {@linkcode col2imAdd}'s JavaScript loop adds into dX directly.
 *
 * @module
 */
import { COL2IM_WASM } from "./wasm/col2im_wasm.ts";
import { col2imAdd, type ConvGeometry } from "./im2col.ts";
import { arenaModule, scratchViews } from "./scratch_arena.ts";

type Col2imLoop = (cols: number, dx: number, ...geometry: number[]) => void;

function loop(): Col2imLoop | null {
  return (arenaModule(COL2IM_WASM)?.col2im_add as Col2imLoop) ?? null;
}

/**
 * Arena buffers for one call: `cols` (`size` floats, the product's output)
 * and the dX accumulator (`dxSize` floats; empty where the JavaScript loop
 * runs). Take them before anything else of the arena in that call.
 */
export function col2imScratch(
  size: number,
  dxSize: number,
): [Float32Array, Float32Array] {
  const [cols, acc] = scratchViews([size, loop() === null ? 0 : dxSize]);
  return [cols, acc];
}

/** `dx = col2im(cols)` of geometry `g` (`cols` and `acc` from {@linkcode col2imScratch}). */
export function col2imInto(
  g: ConvGeometry,
  cols: Float32Array,
  acc: Float32Array,
  dx: Float32Array,
): void {
  const f = loop();
  if (f === null || acc.length !== dx.length) {
    dx.fill(0);
    col2imAdd(g, cols, dx);
    return;
  }
  acc.fill(0);
  const { n, h, w, ci, kh, kw, sh, sw, pt, pl, oh, ow } = g;
  f(
    cols.byteOffset,
    acc.byteOffset,
    n,
    h,
    w,
    ci,
    kh,
    kw,
    sh,
    sw,
    pt,
    pl,
    oh,
    ow,
  );
  dx.set(acc);
}
