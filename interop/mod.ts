/**
 * Interoperability of p2p with the PyTorch reference and the browser:
 * read `torch.save` files without Python (zip container, pickle subset),
 * map the reference's `state_dict` keys and layouts to p2p layers and back,
 * write safetensors, and export models that plain tfjs loads in a browser.
 *
 * @example
 * ```ts
 * import { unet } from "@p2p/models";
 * import { exportStateDict, importStateDict } from "@p2p/interop";
 *
 * const config = { kind: "unet" as const, depth: 5, ngf: 4, size: 32 };
 * const sd = exportStateDict(unet(config), config);
 * const back = importStateDict(sd, { net: "unet", size: 32 });
 * console.log(back.config.kind, back.model.countParams()); // unet 65835
 * ```
 *
 * @module
 */
export * from "./zip.ts";
export * from "./pickle.ts";
export * from "./torch_load.ts";
export * from "./reference_keys.ts";
export * from "./convert.ts";
export * from "./safetensors.ts";
export * from "./tfjs_export.ts";
export * from "./torch_save.ts";
export * from "./reference_checkpoint.ts";
// The network and layer types this API refers to live in @p2p/models and @p2p/layers.
export type { NormKind } from "@p2p/layers";
export type {
  DiscriminatorConfig,
  DiscriminatorOutput,
  DropoutPlacement,
  GeneratorConfig,
  ImageDiscriminatorOptions,
  LayersModel,
  PatchDiscriminatorOptions,
  ResnetGeneratorOptions,
  UnetOptions,
} from "@p2p/models";
