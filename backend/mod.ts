/**
 * Backend selection for p2p: hardware WebGPU when there is one, else the
 * wasm backend, else the plain cpu backend; overridable and printed.
 *
 * @example
 * ```ts
 * import { selectBackend } from "@p2p/backend";
 * const { backend } = await selectBackend({ backend: "cpu", log: null });
 * console.log(backend); // "cpu"
 * ```
 *
 * @module
 */
export * from "./select_backend.ts";
export * from "./wasm_kernels.ts";
export * from "./webgpu_kernels.ts";
