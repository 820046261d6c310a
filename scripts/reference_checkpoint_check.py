#!/usr/bin/python3
"""Checks p2p's reference checkpoints against the reference's own networks.

Imports `models/networks.py` of the PyTorch reference
(junyanz/pytorch-CycleGAN-and-pix2pix) from REFERENCE (by default
`../shared/reference-pytorch` beside the repository), then, for every network
listed in DIR/specs.json:

1. `torch.load`s p2p's `DIR/p2p/<label>_net_<G|D>.pth` into the reference's
   network with `load_state_dict(strict=True)`, runs it in eval mode on
   `DIR/<name>.input.bin` and compares with p2p's output `DIR/<name>.p2p.bin`;
2. builds the same network with the reference's initialisation (and shifted
   BatchNorm running statistics), saves it with `torch.save` as the reference
   does into `DIR/ref/<label>_net_<G|D>.pth`, and writes its eval output to
   `DIR/<name>.ref.bin` for p2p to compare.

    /usr/bin/python3 scripts/reference_checkpoint_check.py DIR [REFERENCE]

Inputs and outputs are float32 little-endian, NCHW.
"""
import functools
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


def build(spec, networks):
    norm = networks.get_norm_layer(spec["norm"])
    kind = spec["kind"]
    if kind == "unet":
        return networks.UnetGenerator(spec["input_nc"], spec["output_nc"], spec["depth"], spec["ngf"],
                                      norm_layer=norm, use_dropout=spec["dropout"])
    if kind == "resnet":
        return networks.ResnetGenerator(spec["input_nc"], spec["output_nc"], spec["ngf"], norm_layer=norm,
                                        use_dropout=spec["dropout"], n_blocks=spec["blocks"])
    if kind == "n_layers":
        return networks.NLayerDiscriminator(spec["input_nc"], spec["ngf"], n_layers=spec["layers"], norm_layer=norm)
    if kind == "pixel":
        return networks.PixelDiscriminator(spec["input_nc"], spec["ngf"], norm_layer=norm)
    raise ValueError(kind)


def read(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(shape))


def main():
    out = sys.argv[1]
    ref = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "shared", "reference-pytorch")
    sys.path.insert(0, os.path.abspath(ref))
    from models import networks  # noqa: E402  (the reference's own file)
    specs = json.load(open(os.path.join(out, "specs.json")))
    os.makedirs(os.path.join(out, "ref"), exist_ok=True)
    torch.manual_seed(0)
    failures = 0
    for spec in specs:
        name = spec["name"]
        x = read(os.path.join(out, name + ".input.bin"), spec["input_shape"])
        net = build(spec, networks)
        sd = torch.load(os.path.join(out, "p2p", spec["file"]), map_location="cpu")
        net.load_state_dict(sd, strict=True)
        net.eval()
        with torch.no_grad():
            y = net(x).numpy()
        p2p = np.fromfile(os.path.join(out, name + ".p2p.bin"), dtype="<f4").reshape(y.shape)
        diff = float(np.abs(y - p2p).max())
        ok = diff < 1e-4
        failures += not ok
        print(f"{name}: torch.load + load_state_dict(strict=True) of p2p's {spec['file']}: "
              f"{'ok' if ok else 'MISMATCH'} (max |torch - p2p| {diff:.2e})")
        fresh = build(spec, networks)
        networks.init_weights(fresh, "normal", 0.02)
        for m in fresh.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)
        fresh.eval()
        torch.save(fresh.cpu().state_dict(), os.path.join(out, "ref", spec["file"]))
        with torch.no_grad():
            fresh(x).numpy().astype("<f4").tofile(os.path.join(out, name + ".ref.bin"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
