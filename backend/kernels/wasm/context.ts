/**
 * What p2p's wasm kernels need at run time, set once by
 * `registerFastWasmKernels`: the native BLAS (or none) and the stock
 * tfjs-wasm kernels they fall back on or are built from.
 *
 * @module
 */
import type { Blas } from "../blas.ts";
import type { BackpropFilterDeps } from "../conv2d_backprop_filter.ts";
import type { BackpropInputDeps } from "../conv2d_backprop_input.ts";
import type { DirectKernel } from "../wasm_heap.ts";

/** The run-time dependencies of p2p's wasm kernels. */
export interface WasmKernelContext {
  /** The native BLAS, or `null` for the XNNPACK-only kernels. */
  blas: Blas | null;
  /** The stock tfjs-wasm kernel of a name (as it was before registration). */
  stock(name: string): DirectKernel;
  /** Kernels the XNNPACK `Conv2DBackpropInput` is built on. */
  inputDeps: BackpropInputDeps;
  /** Kernels the XNNPACK `Conv2DBackpropFilter` is built on. */
  filterDeps: BackpropFilterDeps;
}

let current: WasmKernelContext | undefined;

/** Sets (or, with `undefined`, clears) the context the kernels run with. */
export function setWasmKernelContext(
  context: WasmKernelContext | undefined,
): void {
  current = context;
}

/** The context the kernels run with; throws when none is set. */
export function wasmKernelContext(): WasmKernelContext {
  if (current === undefined) {
    throw new Error(
      "p2p wasm kernel called before registerFastWasmKernels set its context",
    );
  }
  return current;
}

/** The BLAS of the context; throws when the kernels run without one. */
export function contextBlas(name: string): Blas {
  const blas = wasmKernelContext().blas;
  if (blas === null) {
    throw new Error(
      `p2p wasm ${name}: registered for BLAS, but none is loaded`,
    );
  }
  return blas;
}
