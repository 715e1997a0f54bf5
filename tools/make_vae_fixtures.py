#!/usr/bin/env python3
"""Builds the VAE golden fixtures in tests/fixtures/vae from PyTorch (run by hand, never by CI).

AutoencoderKL models come from diffusers (seeded random weights, reduced channel widths, the real
block structure); the TAE modules are written here from the architecture facts in
../shared/design/VAE.md and ../shared/models/README.md. Each model's weights are saved as
safetensors in the key layouts the C++ loader must understand, with inputs and PyTorch's fp32
outputs beside them. With ../shared/models present, the real taef2 weights' outputs on
tests/fixtures/vae/test_image.png are saved too.

Set-up (a virtualenv inside the ignored build folder; torch without its CUDA wheels, run on CPU):
    python3 -m venv build/fixtures-venv
    build/fixtures-venv/bin/pip install --no-deps torch
    build/fixtures-venv/bin/pip install --no-deps nvidia-cusparselt-cu13 nvidia-nvshmem-cu13 \
        nvidia-cufile nvidia-nccl-cu13       # libraries libtorch links against, never used here
    build/fixtures-venv/bin/pip install numpy safetensors filelock typing_extensions sympy \
        networkx jinja2 fsspec diffusers pillow
    tools/make_vae_fixtures.sh   # sets LD_LIBRARY_PATH and runs this script
"""

import argparse
import pathlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import AutoencoderKL
from PIL import Image
from safetensors.torch import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "vae"


# ---- key layouts --------------------------------------------------------------------------------

def diffusers_to_ldm(name: str, levels: int) -> str:
    """A diffusers AutoencoderKL key in the LDM/CompVis layout."""
    parts = name.split(".")
    out = []
    i = 0
    while i < len(parts):
        p = parts[i]
        if p in ("down_blocks", "up_blocks"):
            # diffusers numbers decoder levels from the lowest resolution, LDM from the highest.
            level = parts[i + 1] if p == "down_blocks" else str(levels - 1 - int(parts[i + 1]))
            out += ["down" if p == "down_blocks" else "up", level]
            if parts[i + 2] == "resnets":
                out += ["block", parts[i + 3]]
            else:  # downsamplers.0 / upsamplers.0
                out.append("downsample" if p == "down_blocks" else "upsample")
            i += 4
            continue
        if p == "mid_block":
            if parts[i + 1] == "resnets":
                out += ["mid", "block_%d" % (int(parts[i + 2]) + 1)]
            else:  # attentions.0
                out += ["mid", "attn_1"]
            i += 3
            continue
        renames = {"conv_shortcut": "nin_shortcut", "conv_norm_out": "norm_out",
                   "group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v"}
        if p == "to_out":  # to_out.0
            out.append("proj_out")
            i += 2
            continue
        out.append(renames.get(p, p))
        i += 1
    return ".".join(out)


def ldm_state(state: dict, levels: int) -> dict:
    out = {}
    for k, v in state.items():
        nk = diffusers_to_ldm(k, levels)
        if ".attn_1." in nk and nk.endswith(".weight") and v.dim() == 2:
            v = v[:, :, None, None]  # Linear -> 1x1 conv weight
        out[nk] = v
    return out


def legacy_attention_names(state: dict) -> dict:
    """diffusers files written before the attention rename: query/key/value/proj_attn."""
    renames = {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}
    out = {}
    for k, v in state.items():
        for a, b in renames.items():
            k = k.replace(a, b)
        out[k] = v
    return out


# ---- TAE, written from the architecture facts ----------------------------------------------

class Clamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


def conv3(c_in, c_out, bias=True, stride=1):
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=bias)


class Block(nn.Module):
    def __init__(self, c_in, c_out, pool_width=0):
        super().__init__()
        self.conv = nn.Sequential(conv3(c_in, c_out), nn.ReLU(), conv3(c_out, c_out), nn.ReLU(),
                                  conv3(c_out, c_out))
        self.skip = nn.Conv2d(c_in, c_out, 1, bias=False) if c_in != c_out else nn.Identity()
        self.pool = None
        if pool_width:
            self.pool = nn.Sequential(nn.Conv2d(c_in, pool_width, 1, bias=False),
                                      nn.GroupNorm(4, pool_width), nn.ReLU(),
                                      nn.Conv2d(pool_width, c_in, 1, bias=False))

    def forward(self, x):
        if self.pool is not None:
            x = x + self.pool(x)
        return F.relu(self.conv(x) + self.skip(x))


def tae_decoder(latent, width, pool_width=0):
    inner = lambda: Block(width, width, pool_width)
    return nn.Sequential(
        Clamp(), conv3(latent, width), nn.ReLU(),
        inner(), inner(), inner(), nn.Upsample(scale_factor=2), conv3(width, width, bias=False),
        Block(width, width), Block(width, width), Block(width, width),
        nn.Upsample(scale_factor=2), conv3(width, width, bias=False),
        Block(width, width), Block(width, width), Block(width, width),
        nn.Upsample(scale_factor=2), conv3(width, width, bias=False),
        Block(width, width), conv3(width, 3))


def tae_encoder(latent, width, pool_width=0):
    inner = lambda: Block(width, width, pool_width)
    return nn.Sequential(
        conv3(3, width), Block(width, width),
        conv3(width, width, bias=False, stride=2), Block(width, width), Block(width, width), Block(width, width),
        conv3(width, width, bias=False, stride=2), Block(width, width), Block(width, width), Block(width, width),
        conv3(width, width, bias=False, stride=2), inner(), inner(), inner(),
        conv3(width, latent))


# ---- helpers -----------------------------------------------------------------------------------

def randomise(module: nn.Module, generator: torch.Generator):
    """Default init for convs; norms get non-trivial gamma/beta so a swap would show."""
    for m in module.modules():
        if isinstance(m, nn.GroupNorm):
            with torch.no_grad():
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=generator))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=generator))
        elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
            with torch.no_grad():
                m.bias.copy_(0.05 * torch.randn(m.bias.shape, generator=generator))


def representable(module: nn.Module, dtype: torch.dtype):
    """Rounds every parameter to `dtype` (and back) so files in that dtype hold exactly the
    weights the reference was computed with."""
    with torch.no_grad():
        for p in module.parameters():
            v = p.to(dtype).to(torch.float32)
            if dtype == torch.bfloat16:
                v[v.abs() < 1e-4] = 0  # also exact in fp16 (no fp16 subnormals)
            p.copy_(v)


def save(path: pathlib.Path, tensors: dict, dtype=torch.float32):
    save_file({k: v.detach().to(dtype).contiguous() for k, v in tensors.items()}, str(path))
    print(f"  {path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KiB")


def uniform(shape, generator, lo=-1.0, hi=1.0):
    return lo + (hi - lo) * torch.rand(shape, generator=generator)


def test_image() -> torch.Tensor:
    img = np.asarray(Image.open(OUT / "test_image.png").convert("RGB"), dtype=np.float32) / 255
    return torch.from_numpy(img).permute(2, 0, 1)[None].contiguous()


# ---- fixtures ----------------------------------------------------------------------------------

def kl_fixtures(name, latent, widths, layers_per_block, quant, files, seed, decode_shape,
                encode_shape):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=latent,
                        down_block_types=["DownEncoderBlock2D"] * len(widths),
                        up_block_types=["UpDecoderBlock2D"] * len(widths),
                        block_out_channels=list(widths), layers_per_block=layers_per_block,
                        norm_num_groups=32, use_quant_conv=quant, use_post_quant_conv=quant).eval()
    randomise(vae, g)
    representable(vae, torch.bfloat16)
    state = vae.state_dict()
    for layout, dtype in files:
        if layout == "ldm":
            tensors = ldm_state(state, len(widths))
        elif layout == "diffusers":
            tensors = state
        else:  # diffusers-legacy
            tensors = legacy_attention_names(state)
        save(OUT / f"{name}_{layout}.safetensors", tensors, dtype)
    z = torch.randn(decode_shape, generator=g)
    x = torch.rand(encode_shape, generator=g)  # [0, 1] images
    with torch.no_grad():
        decoded = vae.decode(z).sample                       # [-1, 1] range, unclamped
        mean = vae.encode(x * 2 - 1).latent_dist.mean        # the graph takes [-1, 1]
    save(OUT / f"{name}_io.safetensors",
         {"decode_in": z, "decode_out": decoded, "encode_in": x, "encode_out": mean})


def tae_fixtures(name, latent, width, pool_width, combined, seed, decode_shape, encode_shape):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    dec = tae_decoder(latent, width, pool_width).eval()
    enc = tae_encoder(latent, width, pool_width).eval()
    randomise(dec, g)
    randomise(enc, g)
    representable(dec, torch.float16)
    representable(enc, torch.float16)
    if combined:  # diffusers AutoencoderTiny style: one file, both halves under prefixes
        tensors = {"decoder.layers." + k: v for k, v in dec.state_dict().items()}
        tensors.update({"encoder.layers." + k: v for k, v in enc.state_dict().items()})
        save(OUT / f"{name}.safetensors", tensors, torch.float16)
    else:
        save(OUT / f"{name}_decoder.safetensors", dec.state_dict(), torch.float16)
        save(OUT / f"{name}_encoder.safetensors", enc.state_dict(), torch.float16)
    z = torch.randn(decode_shape, generator=g)
    x = torch.rand(encode_shape, generator=g)
    with torch.no_grad():
        decoded = dec(z)
        encoded = enc(x)
    save(OUT / f"{name}_io.safetensors",
         {"decode_in": z, "decode_out": decoded, "encode_in": x, "encode_out": encoded})


def taef2_real(models: pathlib.Path):
    dec = tae_decoder(32, 64, 256).eval()
    enc = tae_encoder(32, 64, 256).eval()
    dec.load_state_dict({k: v.float() for k, v in load_file(str(models / "taef2_decoder.safetensors")).items()})
    enc.load_state_dict({k: v.float() for k, v in load_file(str(models / "taef2_encoder.safetensors")).items()})
    x = test_image()
    with torch.no_grad():
        latent = enc(x)
        decoded = dec(latent)
    psnr = 10 * torch.log10(1 / torch.mean((decoded.clamp(0, 1) - x) ** 2))
    print(f"  real taef2 round trip of the test image in PyTorch: PSNR {psnr.item():.2f} dB")
    # The input is test_image.png itself (8-bit / 255 in fp32, as the C++ test computes it).
    save(OUT / "taef2_real_io.safetensors", {"encode_out": latent, "decode_out": decoded})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=pathlib.Path, default=ROOT.parent / "shared" / "models")
    args = parser.parse_args()
    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)
    print("AutoencoderKL, 4 latent channels, quant convs (SD1.5 structure, reduced widths):")
    kl_fixtures("kl4", 4, (32, 32, 64, 32), 1, True, [("ldm", torch.float16), ("diffusers", torch.bfloat16)],
                seed=1, decode_shape=(2, 4, 16, 16), encode_shape=(2, 3, 64, 80))
    print("AutoencoderKL, 16 latent channels, no quant convs (SD3/FLUX.1 structure, reduced widths):")
    kl_fixtures("kl16", 16, (32, 32, 32, 32), 2, False, [("diffusers-legacy", torch.float16)],
                seed=2, decode_shape=(1, 16, 24, 40), encode_shape=(1, 3, 64, 64))
    print("TAE, 4 latent channels (taesd structure, width 16), separate files:")
    tae_fixtures("tae4", 4, 16, 0, False, seed=3, decode_shape=(2, 4, 16, 16), encode_shape=(2, 3, 64, 80))
    print("TAE, 32 latent channels with pool branch (taef2 structure, width 16), one combined file:")
    tae_fixtures("tae32", 32, 16, 64, True, seed=4, decode_shape=(2, 32, 12, 20), encode_shape=(1, 3, 64, 64))
    if (args.models / "taef2_decoder.safetensors").exists():
        print("real taef2 weights:")
        taef2_real(args.models)
    else:
        print(f"{args.models} has no taef2 weights: the real-weights fixture was not rebuilt")


if __name__ == "__main__":
    main()
