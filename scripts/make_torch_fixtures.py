#!/usr/bin/python3
"""Parity fixtures for p2p's PyTorch interop (tests/fixtures/torch/).

Builds the reference pix2pix architectures at a tiny size, written here from
the reference's `models/networks.py` (junyanz/pytorch-CycleGAN-and-pix2pix;
the pip package is not installable here), saves their `state_dict` with
`torch.save`, one input and the eval-mode output. The Deno tests in interop/
import the `.pth` files and compare p2p's output with the saved one; they do
not need Python. Only regenerating the fixtures does:

    /usr/bin/python3 scripts/make_torch_fixtures.py            # write fixtures
    /usr/bin/python3 scripts/make_torch_fixtures.py check FILE.safetensors NAME [...]
        # load an exported safetensors file into fixture NAME's network with
        # load_state_dict(strict=True) and compare with the saved output
        # (interop/torch_python_test.ts runs this when torch is installed)

Needs Debian's python3-torch (`apt-get install -y python3-torch`).

Files: `<name>.pth` (zip format, as torch.save writes by default),
`<name>_legacy.pth` (the pre-1.6 format, for one small net),
`<name>_input.bin` / `<name>_output.bin` (float32 little-endian, NCHW) and
`manifest.json` describing every fixture (network options, shapes, files).
"""
import collections
import functools
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "torch")


# --- The reference networks (structure of models/networks.py) -------------


def get_norm_layer(norm_type="batch"):
    if norm_type == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm_type == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    raise NotImplementedError("normalization layer [%s] is not found" % norm_type)


def uses_bias(norm_layer):
    if type(norm_layer) == functools.partial:
        return norm_layer.func == nn.InstanceNorm2d
    return norm_layer == nn.InstanceNorm2d


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf=64, norm_layer=nn.BatchNorm2d,
                 use_dropout=False, n_blocks=6, padding_type="reflect"):
        assert n_blocks >= 0
        super().__init__()
        use_bias = uses_bias(norm_layer)
        model = [nn.ReflectionPad2d(3),
                 nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias),
                 norm_layer(ngf),
                 nn.ReLU(True)]
        n_downsampling = 2
        for i in range(n_downsampling):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2,
                                padding=1, bias=use_bias),
                      norm_layer(ngf * mult * 2),
                      nn.ReLU(True)]
        mult = 2 ** n_downsampling
        for i in range(n_blocks):
            model += [ResnetBlock(ngf * mult, padding_type=padding_type, norm_layer=norm_layer,
                                  use_dropout=use_dropout, use_bias=use_bias)]
        for i in range(n_downsampling):
            mult = 2 ** (n_downsampling - i)
            model += [nn.ConvTranspose2d(ngf * mult, int(ngf * mult / 2), kernel_size=3,
                                         stride=2, padding=1, output_padding=1,
                                         bias=use_bias),
                      norm_layer(int(ngf * mult / 2)),
                      nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3)]
        model += [nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0)]
        model += [nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, input):
        return self.model(input)


class ResnetBlock(nn.Module):
    def __init__(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        super().__init__()
        self.conv_block = self.build_conv_block(dim, padding_type, norm_layer, use_dropout, use_bias)

    def build_conv_block(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        assert padding_type == "reflect"
        conv_block = [nn.ReflectionPad2d(1),
                      nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
                      norm_layer(dim), nn.ReLU(True)]
        if use_dropout:
            conv_block += [nn.Dropout(0.5)]
        conv_block += [nn.ReflectionPad2d(1),
                       nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
                       norm_layer(dim)]
        return nn.Sequential(*conv_block)

    def forward(self, x):
        return x + self.conv_block(x)


class UnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, num_downs, ngf=64, norm_layer=nn.BatchNorm2d,
                 use_dropout=False):
        super().__init__()
        unet_block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, input_nc=None, submodule=None,
                                             norm_layer=norm_layer, innermost=True)
        for i in range(num_downs - 5):
            unet_block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, input_nc=None,
                                                 submodule=unet_block, norm_layer=norm_layer,
                                                 use_dropout=use_dropout)
        unet_block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, input_nc=None,
                                             submodule=unet_block, norm_layer=norm_layer)
        unet_block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, input_nc=None,
                                             submodule=unet_block, norm_layer=norm_layer)
        unet_block = UnetSkipConnectionBlock(ngf, ngf * 2, input_nc=None,
                                             submodule=unet_block, norm_layer=norm_layer)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc,
                                             submodule=unet_block, outermost=True,
                                             norm_layer=norm_layer)

    def forward(self, input):
        return self.model(input)


class UnetSkipConnectionBlock(nn.Module):
    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False,
                 innermost=False, norm_layer=nn.BatchNorm2d, use_dropout=False):
        super().__init__()
        self.outermost = outermost
        use_bias = uses_bias(norm_layer)
        if input_nc is None:
            input_nc = outer_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1,
                             bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = norm_layer(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = norm_layer(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2,
                                        padding=1)
            down = [downconv]
            up = [uprelu, upconv, nn.Tanh()]
            model = down + [submodule] + up
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2,
                                        padding=1, bias=use_bias)
            down = [downrelu, downconv]
            up = [uprelu, upconv, upnorm]
            model = down + up
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2,
                                        padding=1, bias=use_bias)
            down = [downrelu, downconv, downnorm]
            up = [uprelu, upconv, upnorm]
            if use_dropout:
                model = down + [submodule] + up + [nn.Dropout(0.5)]
            else:
                model = down + [submodule] + up
        self.model = nn.Sequential(*model)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf=64, n_layers=3, norm_layer=nn.BatchNorm2d):
        super().__init__()
        use_bias = uses_bias(norm_layer)
        kw = 4
        padw = 1
        sequence = [nn.Conv2d(input_nc, ndf, kernel_size=kw, stride=2, padding=padw),
                    nn.LeakyReLU(0.2, True)]
        nf_mult = 1
        for n in range(1, n_layers):
            nf_mult_prev = nf_mult
            nf_mult = min(2 ** n, 8)
            sequence += [nn.Conv2d(ndf * nf_mult_prev, ndf * nf_mult, kernel_size=kw, stride=2,
                                   padding=padw, bias=use_bias),
                         norm_layer(ndf * nf_mult),
                         nn.LeakyReLU(0.2, True)]
        nf_mult_prev = nf_mult
        nf_mult = min(2 ** n_layers, 8)
        sequence += [nn.Conv2d(ndf * nf_mult_prev, ndf * nf_mult, kernel_size=kw, stride=1,
                               padding=padw, bias=use_bias),
                     norm_layer(ndf * nf_mult),
                     nn.LeakyReLU(0.2, True)]
        sequence += [nn.Conv2d(ndf * nf_mult, 1, kernel_size=kw, stride=1, padding=padw)]
        self.model = nn.Sequential(*sequence)

    def forward(self, input):
        return self.model(input)


class PixelDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf=64, norm_layer=nn.BatchNorm2d):
        super().__init__()
        use_bias = uses_bias(norm_layer)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, kernel_size=1, stride=1, padding=0),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, stride=1, padding=0, bias=use_bias),
            norm_layer(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, kernel_size=1, stride=1, padding=0, bias=use_bias))

    def forward(self, input):
        return self.net(input)


# --- Fixtures --------------------------------------------------------------

# name -> (constructor, options recorded in the manifest, input channels)
FIXTURES = {
    "unet_bn": dict(net="unet", depth=5, ngf=4, norm="batch", dropout=True, in_nc=3, out_nc=3,
                    size=32),
    "unet_in": dict(net="unet", depth=5, ngf=2, norm="instance", dropout=True, in_nc=3,
                    out_nc=3, size=32),
    "resnet_bn": dict(net="resnet", blocks=2, ngf=4, norm="batch", dropout=True, in_nc=3,
                      out_nc=3, size=32),
    "basic_bn": dict(net="basic", n_layers=3, ndf=4, norm="batch", in_nc=6, size=32,
                     legacy=True),
    "pixel_bn": dict(net="pixel", ndf=4, norm="batch", in_nc=6, size=8),
}


def build(spec):
    norm = get_norm_layer(spec["norm"])
    if spec["net"] == "unet":
        return UnetGenerator(spec["in_nc"], spec["out_nc"], spec["depth"], ngf=spec["ngf"],
                             norm_layer=norm, use_dropout=spec["dropout"])
    if spec["net"] == "resnet":
        return ResnetGenerator(spec["in_nc"], spec["out_nc"], ngf=spec["ngf"], norm_layer=norm,
                               use_dropout=spec["dropout"], n_blocks=spec["blocks"])
    if spec["net"] == "basic":
        return NLayerDiscriminator(spec["in_nc"], ndf=spec["ndf"], n_layers=spec["n_layers"],
                                   norm_layer=norm)
    if spec["net"] == "pixel":
        return PixelDiscriminator(spec["in_nc"], ndf=spec["ndf"], norm_layer=norm)
    raise ValueError(spec["net"])


def init_weights(net, gen):
    """The reference's init_weights('normal', 0.02), with non-zero biases and
    BatchNorm β so that the tests also check where those land."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.weight.data.normal_(0.0, 0.02, generator=gen)
            if m.bias is not None:
                m.bias.data.normal_(0.0, 0.02, generator=gen)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.02, generator=gen)
            m.bias.data.normal_(0.0, 0.1, generator=gen)


def settle_running_stats(net, spec, gen):
    """Gives BatchNorm realistic running statistics: a few training-mode passes
    over random inputs with a cumulative average (momentum None)."""
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    for m in bns:
        m.momentum = None
        m.reset_running_stats()
    net.train()
    with torch.no_grad():
        for _ in range(4):
            net(torch.rand(2, spec["in_nc"], spec["size"], spec["size"], generator=gen) * 2 - 1)
    for m in bns:
        m.momentum = 0.1
        m.num_batches_tracked.fill_(1234)


def write_f32(path, t):
    a = t.detach().cpu().numpy().astype("<f4")
    with open(path, "wb") as f:
        f.write(a.tobytes())


def make():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    manifest = {"torch": torch.__version__, "layout": "NCHW float32 little-endian",
                "fixtures": {}}
    for i, (name, spec) in enumerate(FIXTURES.items()):
        gen = torch.Generator().manual_seed(1000 + i)
        net = build(spec)
        init_weights(net, gen)
        settle_running_stats(net, spec, gen)
        net.eval()
        x = torch.rand(1, spec["in_nc"], spec["size"], spec["size"], generator=gen) * 2 - 1
        with torch.no_grad():
            y = net(x)
        files = {"pth": name + ".pth"}
        torch.save(net.state_dict(), os.path.join(OUT, files["pth"]))
        if spec.get("legacy"):
            files["legacy"] = name + "_legacy.pth"
            torch.save(net.state_dict(), os.path.join(OUT, files["legacy"]),
                       _use_new_zipfile_serialization=False)
        files["input"] = name + "_input.bin"
        files["output"] = name + "_output.bin"
        write_f32(os.path.join(OUT, files["input"]), x)
        write_f32(os.path.join(OUT, files["output"]), y)
        sd = net.state_dict()
        manifest["fixtures"][name] = {
            "spec": {k: v for k, v in spec.items() if k != "legacy"},
            "files": files,
            "inputShape": list(x.shape),
            "outputShape": list(y.shape),
            "outputStd": float(y.std()),
            "keys": {k: list(v.shape) for k, v in sd.items()},
            "params": int(sum(p.numel() for p in net.parameters())),
        }
        print("%-10s params %6d  output %s  std %.4f" % (
            name, manifest["fixtures"][name]["params"], tuple(y.shape), float(y.std())))
    # Layout corner cases of the reader: a transposed (non-contiguous) view,
    # a view at a storage offset sharing its storage, half, bfloat16, int64.
    base = torch.arange(10, dtype=torch.float32)
    misc = collections.OrderedDict([
        ("transposed", torch.arange(6, dtype=torch.float32).reshape(2, 3).t()),
        ("base", base),
        ("offset_view", base[3:7]),
        ("half", torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16)),
        ("bfloat16", torch.tensor([1.0, -3.5], dtype=torch.bfloat16)),
        ("int64", torch.tensor([[1, -2], [3, 2**40]], dtype=torch.int64)),
    ])
    torch.save(misc, os.path.join(OUT, "misc.pth"))
    torch.save(misc, os.path.join(OUT, "misc_legacy.pth"), _use_new_zipfile_serialization=False)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print("wrote %s (%d bytes)" % (os.path.normpath(OUT), total))


# --- safetensors check (no `safetensors` module needed) --------------------

ST_DTYPES = {"F32": torch.float32, "F16": torch.float16, "F64": torch.float64,
             "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BF16": torch.bfloat16}


def read_safetensors(path):
    """A minimal safetensors reader: 8-byte LE header length, JSON header,
    raw little-endian data."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = bytearray(blob[base + start:base + end])
        t = torch.frombuffer(raw, dtype=ST_DTYPES[info["dtype"]]) if raw else \
            torch.empty(0, dtype=ST_DTYPES[info["dtype"]])
        out[key] = t.reshape(info["shape"]).clone()
    return out


def check(path, name):
    manifest = json.load(open(os.path.join(OUT, "manifest.json")))
    entry = manifest["fixtures"][name]
    spec = entry["spec"]
    net = build(spec)
    try:
        from safetensors.torch import load_file  # type: ignore
        sd = load_file(path)
        how = "safetensors.torch.load_file"
    except ImportError:
        sd = read_safetensors(path)
        how = "the script's own safetensors reader (no safetensors module)"
    net.load_state_dict(sd, strict=True)
    net.eval()
    x = torch.from_numpy(np.fromfile(os.path.join(OUT, entry["files"]["input"]), "<f4")
                         .reshape(entry["inputShape"]))
    want = torch.from_numpy(np.fromfile(os.path.join(OUT, entry["files"]["output"]), "<f4")
                            .reshape(entry["outputShape"]))
    with torch.no_grad():
        got = net(x)
    err = float((got - want).abs().max())
    print("%s: load_state_dict(strict=True) via %s: ok; %d tensors; max |out - fixture| = %.3g"
          % (name, how, len(sd), err))
    if err > 1e-5:
        sys.exit("output differs from the fixture")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "check":
        pairs = sys.argv[2:]
        if not pairs or len(pairs) % 2:
            sys.exit("usage: make_torch_fixtures.py check FILE.safetensors FIXTURE_NAME [...]")
        for i in range(0, len(pairs), 2):
            check(pairs[i], pairs[i + 1])
    else:
        make()
