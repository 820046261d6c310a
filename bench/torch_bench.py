#!/usr/bin/env python3
"""PyTorch side of `deno task bench`: the reference pix2pix networks and step.

The architecture is written out here (the Debian `python3-torch` package has no
pix2pix): `unet_256` (U-Net, BatchNorm, dropout on three decoder blocks, biases
only where no BatchNorm follows) and the `basic` 70x70 PatchGAN (`n_layers` 3),
as in junyanz/pytorch-CycleGAN-and-pix2pix `models/networks.py`. One training
step is `optimize_parameters` of `models/pix2pix_model.py`: G forward; D on the
real pair and the detached fake, D backward and Adam; G loss (GAN + 100 L1)
through D with D frozen, G backward and Adam. Inference is one G forward in
training mode (dropout on, batch statistics; the reference's default at test
time) under `torch.no_grad()`.

Prints one JSON object on stdout:
  {"torch": version, "threads": n, "configs": {name: {"train_ms": [...],
   "infer_ms": [...]}}, "matmul_gflops": peak}

Usage: /usr/bin/python3 bench/torch_bench.py --config both --steps 5 --threads 2
  [--device cuda]
"""

import argparse
import json
import sys
import time

import torch
import torch.nn as nn

CONFIGS = {
    "full": {"size": 256, "depth": 8, "ngf": 64, "ndf": 64},
    "small": {"size": 128, "depth": 7, "ngf": 32, "ndf": 32},
}


class UnetBlock(nn.Module):
    """One U-Net level, as the reference's UnetSkipConnectionBlock."""

    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None,
                 outermost=False, innermost=False, use_dropout=False):
        super().__init__()
        self.outermost = outermost
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, 4, 2, 1, bias=False)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = nn.BatchNorm2d(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = nn.BatchNorm2d(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1)
            model = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=False)
            model = [downrelu, downconv, uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=False)
            model = [downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm]
            if use_dropout:
                model += [nn.Dropout(0.5)]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


def unet(depth, ngf, in_nc=3, out_nc=3):
    """The reference's UnetGenerator(num_downs=depth, use_dropout=True)."""
    block = UnetBlock(ngf * 8, ngf * 8, innermost=True)
    for _ in range(depth - 5):
        block = UnetBlock(ngf * 8, ngf * 8, submodule=block, use_dropout=True)
    block = UnetBlock(ngf * 4, ngf * 8, submodule=block)
    block = UnetBlock(ngf * 2, ngf * 4, submodule=block)
    block = UnetBlock(ngf, ngf * 2, submodule=block)
    return UnetBlock(out_nc, ngf, input_nc=in_nc, submodule=block, outermost=True)


def patch_discriminator(ndf, n_layers=3, in_nc=6):
    """The reference's NLayerDiscriminator (BatchNorm, so no bias before it)."""
    seq = [nn.Conv2d(in_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    mult = 1
    for n in range(1, n_layers):
        prev, mult = mult, min(2 ** n, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]
    prev, mult = mult, min(2 ** n_layers, 8)
    seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1, bias=False),
            nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
    return nn.Sequential(*seq)


def init_weights(net):
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def set_requires_grad(net, flag):
    for p in net.parameters():
        p.requires_grad = flag


def make_step(g, d, lambda_l1=100.0):
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    l1 = nn.L1Loss()

    def step(a, b):
        fake = g(a)
        set_requires_grad(d, True)
        opt_d.zero_grad()
        pred_fake = d(torch.cat([a, fake.detach()], 1))
        pred_real = d(torch.cat([a, b], 1))
        loss_d = 0.5 * (bce(pred_fake, torch.zeros_like(pred_fake)) +
                        bce(pred_real, torch.ones_like(pred_real)))
        loss_d.backward()
        opt_d.step()
        set_requires_grad(d, False)
        opt_g.zero_grad()
        pred = d(torch.cat([a, fake], 1))
        loss_g = bce(pred, torch.ones_like(pred)) + lambda_l1 * l1(fake, b)
        loss_g.backward()
        opt_g.step()
        return float(loss_d), float(loss_g)

    return step


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, warmup, steps, device=torch.device("cpu")):
    for _ in range(warmup):
        fn()
    sync(device)
    out = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        sync(device)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def matmul_peak(n=2048, reps=5, device=torch.device("cpu")):
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    torch.mm(a, b)
    best = min(timed(lambda: torch.mm(a, b), 0, reps, device))
    return 2 * n ** 3 / (best / 1000.0) / 1e9


def bench_config(cfg, warmup, steps, infer_steps, device=torch.device("cpu")):
    torch.manual_seed(0)
    g = unet(cfg["depth"], cfg["ngf"])
    d = patch_discriminator(cfg["ndf"])
    init_weights(g)
    init_weights(d)
    g.to(device)
    d.to(device)
    g.train()
    d.train()
    s = cfg["size"]
    a = torch.rand(1, 3, s, s, device=device) * 2 - 1
    b = torch.rand(1, 3, s, s, device=device) * 2 - 1
    step = make_step(g, d)
    train_ms = timed(lambda: step(a, b), warmup, steps, device)

    def infer():
        with torch.no_grad():
            g(a)

    infer_ms = timed(infer, warmup, infer_steps, device)
    return {"train_ms": train_ms, "infer_ms": infer_ms,
            "params_g": sum(p.numel() for p in g.parameters()),
            "params_d": sum(p.numel() for p in d.parameters())}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", choices=["full", "small", "both"], default="both")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--infer-steps", type=int, default=None,
                   help="timed inferences (default: 4 x --steps, as bench.ts)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = p.parse_args()
    for flag in ("steps", "infer_steps"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            p.error(f"--{flag.replace('_', '-')} must be at least 1, received {value}")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_bench.py: --device cuda, but torch.cuda.is_available() is False")
    names = ["full", "small"] if args.config == "both" else [args.config]
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
           "mkldnn": torch.backends.mkldnn.is_available(),
           "matmul_gflops": matmul_peak(device=device), "configs": {}}
    for name in names:
        out["configs"][name] = bench_config(
            CONFIGS[name], args.warmup, args.steps,
            args.infer_steps if args.infer_steps is not None else 4 * args.steps,
            device)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
