/**
 * Where each p2p layer lives in the PyTorch reference's module tree
 * (`models/networks.py`), derived from the reference's construction: the
 * U-Net's nested `UnetSkipConnectionBlock`s, the ResNet generator's flat
 * `nn.Sequential` and the `NLayerDiscriminator`/`PixelDiscriminator`.
 *
 * @module
 */

/** A p2p architecture as the reference builds it. */
export type ReferenceArchitecture =
  | {
    /** The U-Net generator (`unet_256` is depth 8, `unet_128` depth 7). */
    kind: "unet";
    /** Number of downsamplings (`num_downs`). */
    depth: number;
  }
  | {
    /** The ResNet generator. */
    kind: "resnet";
    /** Residual blocks (`n_blocks`). */
    blocks: number;
    /** Whether residual blocks hold an `nn.Dropout` (shifts their indices). */
    dropout: boolean;
  }
  | {
    /** The PatchGAN (`NLayerDiscriminator`; `layers: 0` is the `PixelDiscriminator`). */
    kind: "patch";
    /** Stride-2 layers (`n_layers`). */
    layers: number;
  };

/**
 * The reference's module path of each p2p layer, e.g. U-Net `e2_conv` →
 * `model.model.1.model.1`. Parameters are `<path>.weight`, `<path>.bias`
 * and, for BatchNorm, `<path>.running_mean`, `<path>.running_var`,
 * `<path>.num_batches_tracked`.
 *
 * @example
 * ```ts
 * import { referenceModules } from "@p2p/interop";
 * const m = referenceModules({ kind: "unet", depth: 8 });
 * console.log(m.get("e3_conv")); // "model.model.1.model.3.model.1"
 * ```
 */
export function referenceModules(
  arch: ReferenceArchitecture,
): Map<string, string> {
  const m = new Map<string, string>();
  switch (arch.kind) {
    case "unet": {
      const depth = arch.depth;
      if (!Number.isInteger(depth) || depth < 2) {
        throw new RangeError(`unet depth must be ≥ 2, received ${depth}`);
      }
      // UnetGenerator.model is the outermost block; each block's `model` is
      // an nn.Sequential:
      //   outermost [downconv, submodule, uprelu, upconv, tanh]
      //   middle    [downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm, (dropout)]
      //   innermost [downrelu, downconv, uprelu, upconv, upnorm]
      let block = "model";
      for (let level = 1; level <= depth; level++) {
        const seq = `${block}.model`;
        const dec = depth - level + 1; // p2p's decoder index of this level
        if (level === 1) {
          m.set("e1_conv", `${seq}.0`);
          m.set(`d${dec}_tconv`, `${seq}.3`);
          block = `${seq}.1`;
        } else if (level === depth) {
          m.set(`e${level}_conv`, `${seq}.1`);
          m.set(`d${dec}_tconv`, `${seq}.3`);
          m.set(`d${dec}_norm`, `${seq}.4`);
        } else {
          m.set(`e${level}_conv`, `${seq}.1`);
          m.set(`e${level}_norm`, `${seq}.2`);
          m.set(`d${dec}_tconv`, `${seq}.5`);
          m.set(`d${dec}_norm`, `${seq}.6`);
          block = `${seq}.3`;
        }
      }
      break;
    }
    case "resnet": {
      // [pad, conv, norm, relu] + 2 × [conv, norm, relu] + blocks + 2 × [tconv, norm, relu] + [pad, conv, tanh]
      m.set("c1_conv", "model.1");
      m.set("c1_norm", "model.2");
      m.set("down1_conv", "model.4");
      m.set("down1_norm", "model.5");
      m.set("down2_conv", "model.7");
      m.set("down2_norm", "model.8");
      const n = arch.blocks;
      // ResnetBlock.conv_block: [pad, conv, norm, relu, (dropout), pad, conv, norm]
      const second = arch.dropout ? 6 : 5;
      for (let b = 1; b <= n; b++) {
        const p = `model.${9 + b}.conv_block`;
        m.set(`res${b}_conv1`, `${p}.1`);
        m.set(`res${b}_norm1`, `${p}.2`);
        m.set(`res${b}_conv2`, `${p}.${second}`);
        m.set(`res${b}_norm2`, `${p}.${second + 1}`);
      }
      m.set("up1_tconv", `model.${10 + n}`);
      m.set("up1_norm", `model.${11 + n}`);
      m.set("up2_tconv", `model.${13 + n}`);
      m.set("up2_norm", `model.${14 + n}`);
      m.set("out_conv", `model.${17 + n}`);
      break;
    }
    case "patch": {
      const layers = arch.layers;
      if (layers === 0) {
        // PixelDiscriminator.net: [conv, lrelu, conv, norm, lrelu, conv]
        m.set("l1_conv", "net.0");
        m.set("l2_conv", "net.2");
        m.set("l2_norm", "net.3");
        m.set("out_conv", "net.5");
        break;
      }
      // NLayerDiscriminator.model: [conv, lrelu] + layers × [conv, norm, lrelu] + [conv]
      m.set("l1_conv", "model.0");
      for (let n = 1; n <= layers; n++) {
        m.set(`l${n + 1}_conv`, `model.${3 * n - 1}`);
        m.set(`l${n + 1}_norm`, `model.${3 * n}`);
      }
      m.set("out_conv", `model.${3 * layers + 2}`);
      break;
    }
  }
  return m;
}

/**
 * Infers the architecture's size from the keys of a reference state dict:
 * the U-Net's depth (nesting levels), the ResNet's block count and whether
 * its blocks hold dropout, the PatchGAN's layer count. Returns null when
 * the keys do not look like that kind of network.
 */
export function inferArchitecture(
  kind: ReferenceArchitecture["kind"],
  keys: Iterable<string>,
): ReferenceArchitecture | null {
  const set = new Set(keys);
  switch (kind) {
    case "unet": {
      if (!set.has("model.model.0.weight")) return null;
      let depth = 1;
      let block = "model.model.1";
      while (set.has(`${block}.model.1.weight`)) {
        depth++;
        block = `${block}.model.3`;
      }
      return { kind: "unet", depth };
    }
    case "resnet": {
      if (!set.has("model.1.weight")) return null;
      let blocks = 0;
      while (set.has(`model.${10 + blocks}.conv_block.1.weight`)) blocks++;
      // conv2 sits at index 6 after an nn.Dropout, else at 5.
      const dropout = blocks === 0 ||
        !set.has("model.10.conv_block.5.weight");
      return { kind: "resnet", blocks, dropout };
    }
    case "patch": {
      if (set.has("net.0.weight")) return { kind: "patch", layers: 0 };
      if (!set.has("model.0.weight")) return null;
      let last = 0;
      for (const k of set) {
        const m = /^model\.(\d+)\.weight$/.exec(k);
        if (m) last = Math.max(last, Number(m[1]));
      }
      if ((last - 2) % 3 !== 0) return null;
      return { kind: "patch", layers: (last - 2) / 3 };
    }
  }
}
