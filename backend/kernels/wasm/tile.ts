/**
 * `Tile` on the wasm backend: copies rows on the heap (the stock kernel takes ~40 ns an element).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { tileFast } from "../data_kernels.ts";
import { wasmKernelContext } from "./context.ts";

/** Arguments of `Tile` as tfjs passes them. */
type Args = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.TileAttrs;
};

function tile(args: Args): tf.TensorInfo {
  return tileFast(args as never, wasmKernelContext().stock("Tile"));
}

/** p2p's `Tile` kernel for the wasm backend. */
export const tileConfig: tf.KernelConfig = {
  kernelName: "Tile",
  backendName: "wasm",
  kernelFunc: tile as unknown as tf.KernelFunc,
};
