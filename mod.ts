/**
 * p2p: pix2pix for Deno. This root module re-exports every package of the
 * workspace; users import the packages themselves (`jsr:@p2p/models`, …).
 *
 * @example
 * ```ts
 * import { patchDiscriminator, selectBackend, unet } from "./mod.ts";
 * await selectBackend({ backend: "cpu", log: null });
 * const g = unet({ depth: 5, ngf: 4, size: 32 });
 * const d = patchDiscriminator({ ndf: 4, size: 32 });
 * console.log(g.outputs[0].shape, d.outputs[0].shape); // [null, 32, 32, 3] [null, 2, 2, 1]
 * ```
 *
 * @module
 */
export * from "@p2p/backend";
export * from "@p2p/layers";
export * from "@p2p/models";
export * from "@p2p/train";
export * from "@p2p/data";
export * from "@p2p/interop";
