#!/usr/bin/env python3
"""The workloads of bench_vae in PyTorch on the CPU (fp32, all cores), ms per image.

SD: diffusers AutoencoderKL with SD1.x's config and random weights. TAE: the TAE modules of
tools/make_vae_fixtures.py with the real taef2 weights when ../shared/models is present.
Run with tools/make_vae_fixtures.sh's environment:
    tools/make_vae_fixtures.sh --bench     (or set LD_LIBRARY_PATH as that script does and run this)
"""
import pathlib
import sys
import time

import torch
from diffusers import AutoencoderKL
from safetensors.torch import load_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from make_vae_fixtures import tae_decoder, tae_encoder  # noqa: E402


def timed(fn, x, min_time=2.0, max_iters=20):
    with torch.inference_mode():
        fn(x)  # warm-up
        times = []
        start = time.perf_counter()
        while (time.perf_counter() - start < min_time or not times) and len(times) < max_iters:
            t0 = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - t0)
    return min(times) * 1000 / x.shape[0], len(times)


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else ""  # "tae" or "sd": one family only
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    models = ROOT.parent / "shared" / "models"
    dec, enc = tae_decoder(32, 64, 256).eval(), tae_encoder(32, 64, 256).eval()
    name = "taef2 (random)"
    if (models / "taef2_decoder.safetensors").exists():
        dec.load_state_dict({k: v.float() for k, v in load_file(str(models / "taef2_decoder.safetensors")).items()})
        enc.load_state_dict({k: v.float() for k, v in load_file(str(models / "taef2_encoder.safetensors")).items()})
        name = "taef2"
    rows = []
    for size, batch in ([] if only == "sd" else [(256, 1), (512, 1), (256, 4)]):
        rows.append((f"{name} decode", size, batch, *timed(dec, torch.randn(batch, 32, size // 8, size // 8))))
    for size in (() if only == "sd" else (256, 512)):
        rows.append((f"{name} encode", size, 1, *timed(enc, torch.rand(1, 3, size, size))))
    # SD1.x's VAE config (diffusers' own default is a one-level toy model).
    sd = AutoencoderKL(down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
                       block_out_channels=[128, 256, 512, 512], layers_per_block=2, latent_channels=4,
                       norm_num_groups=32).eval()
    sizes = () if only == "tae" else (256, 512)
    for size in sizes:
        rows.append(("sd-kl decode", size, 1,
                     *timed(lambda z: sd.decode(z).sample, torch.randn(1, 4, size // 8, size // 8), 0, 1)))
    for size in sizes:
        rows.append(("sd-kl encode", size, 1,
                     *timed(lambda x: sd.encode(x).latent_dist.mean, torch.rand(1, 3, size, size) * 2 - 1, 0, 1)))
    print("| workload | size | batch | PyTorch CPU ms/image | runs |")
    print("| --- | --- | --- | --- | --- |")
    for what, size, batch, ms, n in rows:
        print(f"| {what} | {size}x{size} | {batch} | {ms:.1f} | {n} |")


if __name__ == "__main__":
    main()
