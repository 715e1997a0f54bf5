#!/usr/bin/env python3
"""PyTorch baselines for bench_vae_gpu: the same decoders with the same weights (the safetensors
files bench_vae_gpu writes into --model-dir), fp16, channels_last, cudnn.benchmark on; eager
(impl=torch) and torch.compile(mode="max-autotune") (impl=torch_compile, with its compile time:
the first call, which compiles and autotunes, in compile_s). Prints the same RESULT lines as
bench_vae_gpu so tools/gpu_check.sh can put all of them in one table.

  python3 tools/bench_vae_torch_gpu.py --model-dir /tmp/dreamwindow-bench-gpu [--models sd,taef2,taesd]
      [--impls eager,compile] [--compile taef2:512:8,sd:512:8] [--compile-budget 120]
  python3 tools/bench_vae_torch_gpu.py --dry-run --model-dir DIR   # CPU: the modules load the weights

max-autotune compiles for minutes on a large decoder, so only the --compile cases are compiled,
in order, while the --compile-budget (seconds, for all of them) lasts; a case left out says so.
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    """name -> fp32 tensor (a small reader: no dependency beyond torch)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[entry["dtype"]])
        tensors[name] = raw.reshape(entry["shape"]).float()
    return tensors


# ---- SD1.x AutoencoderKL decoder, LDM keys (what bench/vae/synthetic_models.h writes) -----------

class ResnetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = nn.GroupNorm(32, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(32, cout, eps=1e-6)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.nin_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.nin_shortcut(x) if self.nin_shortcut is not None else x) + h


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = nn.GroupNorm(32, c, eps=1e-6)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        n, c, h, w = x.shape
        y = self.norm(x)
        q, k, v = (t(y).reshape(n, 1, c, h * w).transpose(2, 3) for t in (self.q, self.k, self.v))
        a = F.scaled_dot_product_attention(q, k, v)  # [n, 1, hw, c]
        a = a.transpose(2, 3).reshape(n, c, h, w)
        return x + self.proj_out(a)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Mid(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block_1, self.attn_1, self.block_2 = ResnetBlock(c, c), AttnBlock(c), ResnetBlock(c, c)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class Up(nn.Module):
    def __init__(self, cin, cout, upsample):
        super().__init__()
        self.block = nn.ModuleList([ResnetBlock(cin if i == 0 else cout, cout) for i in range(3)])
        if upsample:
            self.upsample = Upsample(cout)

    def forward(self, x):
        for b in self.block:
            x = b(x)
        return self.upsample(x) if hasattr(self, "upsample") else x


class KlDecoderInner(nn.Module):
    def __init__(self, latent):
        super().__init__()
        widths = [128, 256, 512, 512]
        self.conv_in = nn.Conv2d(latent, 512, 3, padding=1)
        self.mid = Mid(512)
        ups, channels = {}, 512
        for level in (3, 2, 1, 0):
            ups[level] = Up(channels, widths[level], level != 0)
            channels = widths[level]
        self.up = nn.ModuleList([ups[i] for i in range(4)])
        self.norm_out = nn.GroupNorm(32, 128, eps=1e-6)
        self.conv_out = nn.Conv2d(128, 3, 3, padding=1)

    def forward(self, z):
        x = self.mid(self.conv_in(z))
        for level in (3, 2, 1, 0):
            x = self.up[level](x)
        return self.conv_out(F.silu(self.norm_out(x)))


class KlDecoder(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.post_quant_conv = nn.Conv2d(latent, latent, 1)
        self.decoder = KlDecoderInner(latent)

    def forward(self, z):
        return self.decoder(self.post_quant_conv(z))


def load_kl(path):
    weights = read_safetensors(path)
    weights = {k: v for k, v in weights.items() if k.startswith(("decoder.", "post_quant_conv."))}
    model = KlDecoder(weights["decoder.conv_in.weight"].shape[1])
    model.load_state_dict(weights, strict=True)
    return model


# ---- TAE decoder (nn.Sequential indices; taef2's pool branch when present) ----------------------

class Clamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


class Block(nn.Module):
    def __init__(self, c, pool):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1),
                                  nn.ReLU(), nn.Conv2d(c, c, 3, padding=1))
        self.skip = nn.Identity()
        self.pool = (nn.Sequential(nn.Conv2d(c, 4 * c, 1, bias=False), nn.GroupNorm(4, 4 * c), nn.ReLU(),
                                   nn.Conv2d(4 * c, c, 1, bias=False)) if pool else None)

    def forward(self, x):
        if self.pool is not None:
            x = x + self.pool(x)
        return F.relu(self.conv(x) + self.skip(x))


def load_tae(path):
    weights = read_safetensors(path)
    latent = weights["1.weight"].shape[1]
    pool = lambda i: f"{i}.pool.0.weight" in weights  # noqa: E731
    up = lambda: nn.Upsample(scale_factor=2)  # noqa: E731
    layers = [Clamp(), nn.Conv2d(latent, 64, 3, padding=1), nn.ReLU()]
    for stage, first in enumerate((3, 8, 13)):
        layers += [Block(64, pool(first + j)) for j in range(3)]
        layers += [up(), nn.Conv2d(64, 64, 3, padding=1, bias=False)]
    layers += [Block(64, pool(18)), nn.Conv2d(64, 3, 3, padding=1)]
    model = nn.Sequential(*layers)
    model.load_state_dict(weights, strict=True)
    return model


# ---- timing -------------------------------------------------------------------------------------

def macs_of(model, z):
    """Multiply-accumulates of one forward per batch item, counted as Graph::macs counts them."""
    total = [0.0]
    hooks = []

    def conv_hook(m, inp, out):
        total[0] += out[0].numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1] / m.groups

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        if isinstance(m, AttnBlock):
            hooks.append(m.register_forward_hook(
                lambda m, inp, out: total.__setitem__(0, total[0] + 2.0 * (out.shape[2] * out.shape[3]) ** 2
                                                      * out.shape[1])))
    with torch.no_grad():
        model(z[:1])
    for h in hooks:
        h.remove()
    return total[0]


def latent_input(latent_channels, size, batch, device="cuda", dtype=torch.float16):
    z = torch.sin(torch.arange(batch * latent_channels * (size // 8) ** 2, dtype=torch.float32) * 0.37)
    z = z.reshape(batch, latent_channels, size // 8, size // 8).to(device=device, dtype=dtype)
    return z.contiguous(memory_format=torch.channels_last)


def one_line(error, limit=200):
    """An exception's message for a RESULT line: one line, no quotes, at most `limit` characters."""
    return " ".join(str(error).split()).replace('"', "'")[:limit]


def bench(impl, name, model, run, latent_channels, size, batch, seconds, extra=""):
    """Times run(z) (warmed up) with CUDA events: the median of many calls, per frame."""
    z = latent_input(latent_channels, size, batch)
    macs = macs_of(model, z)
    times = []
    with torch.no_grad():
        for _ in range(3):
            run(z)
        torch.cuda.synchronize()
        start_all = time.perf_counter()
        while len(times) < 5 or (time.perf_counter() - start_all < seconds and len(times) < 200):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            out = run(z)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    median = statistics.median(times)
    finite = bool(torch.isfinite(out).all())
    print(f"RESULT impl={impl} model={name} size={size} batch={batch} ms_per_frame={median / batch:.3f} "
          f"tflops={2 * macs * batch / (median * 1e-3) / 1e12:.1f} finite={finite} calls={len(times)}"
          f"{extra}", flush=True)


def bench_compiled(name, model, latent_channels, size, batch, seconds):
    """torch.compile(mode="max-autotune") of the same module; the first call compiles."""
    compiled = torch.compile(model, mode="max-autotune", dynamic=False)
    z = latent_input(latent_channels, size, batch)
    start = time.perf_counter()
    with torch.no_grad():
        compiled(z)
    torch.cuda.synchronize()
    compile_s = time.perf_counter() - start
    bench("torch_compile", name, model, compiled, latent_channels, size, batch, seconds,
          extra=f" compile_s={compile_s:.1f}")


def load_named(name, model_dir, files):
    path = os.path.join(model_dir, files[name])
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} absent: run bench_vae_gpu first")
    model = load_kl(path) if name == "sd" else load_tae(path)
    latent = model.decoder.conv_in.in_channels if name == "sd" else model[1].in_channels
    return model, latent


def dry_run(args, files):
    """No GPU: each module loads its weight file strictly and runs one tiny fp32 forward."""
    for name in args.models.split(","):
        try:
            model, latent = load_named(name, args.model_dir, files)
            with torch.no_grad():
                out = model.eval()(latent_input(latent, 64, 1, device="cpu", dtype=torch.float32))
            print(f"DRYRUN model={name} loaded, 64x64 forward -> {tuple(out.shape)} "
                  f"finite={bool(torch.isfinite(out).all())}", flush=True)
        except Exception as e:  # report every model
            print(f"DRYRUN model={name} error=\"{e}\"", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default="/tmp/dreamwindow-bench-gpu")
    parser.add_argument("--models", default="sd,taef2,taesd")
    parser.add_argument("--sizes", default="512,1024")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--impls", default="eager,compile", help="eager, compile or both")
    parser.add_argument("--compile", default="taef2:512:8,sd:512:8",
                        help="model:size:batch cases for torch.compile (empty: none)")
    parser.add_argument("--compile-budget", type=float, default=120.0)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    files = {"sd": "sd_vae_random.safetensors", "taef2": "taef2_decoder.safetensors",
             "taesd": "taesd_decoder_random.safetensors"}
    if args.dry_run:
        return dry_run(args, files)
    if not torch.cuda.is_available():
        sys.exit("bench_vae_torch_gpu: no CUDA device")
    torch.backends.cudnn.benchmark = True
    print(f"# torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name()}", flush=True)
    models = {}
    for name in args.models.split(","):
        try:
            model, latent = load_named(name, args.model_dir, files)
        except FileNotFoundError as e:
            for size in map(int, args.sizes.split(",")):
                for batch in map(int, args.batches.split(",")):
                    print(f"RESULT impl=torch model={name} size={size} batch={batch} "
                          f"error=\"{one_line(e)}\"", flush=True)
            continue
        models[name] = (model.cuda().half().to(memory_format=torch.channels_last).eval(), latent)
        if "eager" not in args.impls.split(","):
            continue
        for size in map(int, args.sizes.split(",")):
            for batch in map(int, args.batches.split(",")):
                try:
                    bench("torch", name, models[name][0], models[name][0], latent, size, batch,
                          args.seconds)
                except Exception as e:  # one failing case (memory) must not hide the others
                    print(f"RESULT impl=torch model={name} size={size} batch={batch} "
                          f"error=\"{one_line(e)}\"", flush=True)
                torch.cuda.empty_cache()
    deadline = time.perf_counter() + args.compile_budget
    compile_cases = args.compile.split(",") if "compile" in args.impls.split(",") else []
    for case in filter(None, compile_cases):
        name, size, batch = case.split(":")
        if name not in models:
            continue
        if time.perf_counter() > deadline:
            print(f"RESULT impl=torch_compile model={name} size={size} batch={batch} "
                  f"error=\"compile budget of {args.compile_budget:.0f} s used up\"", flush=True)
            continue
        print(f"# compiling {name} {size}x{size} batch {batch} (max-autotune)", flush=True)
        try:
            bench_compiled(name, models[name][0], models[name][1], int(size), int(batch),
                           args.seconds)
        except Exception as e:
            print(f"RESULT impl=torch_compile model={name} size={size} batch={batch} "
                  f"error=\"{type(e).__name__}: {one_line(e)}\"", flush=True)
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
