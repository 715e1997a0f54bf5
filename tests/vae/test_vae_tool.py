#!/usr/bin/env python3
"""dreamwindow-vae as a user runs it: info, encode/decode, roundtrip, morph on the fixture models,
and bad input answered with a message naming the problem and exit code 2."""
import os
import pathlib
import subprocess
import sys
import tempfile

from PIL import Image

TOOL = sys.argv[1]
FIXTURES = pathlib.Path(sys.argv[2])
TAE = ["--vae", str(FIXTURES / "tae4_decoder.safetensors"),
       "--encoder", str(FIXTURES / "tae4_encoder.safetensors"), "--threads", "2"]
IMAGE = str(FIXTURES / "test_image.png")
failures = []


def run(*args):
    return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=120)


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name)
    if not condition:
        failures.append(f"{name}: {detail}")


r = run("info", "--vae", str(FIXTURES / "kl4_ldm.safetensors"))
check("info names family, layout and latent channels",
      r.returncode == 0 and "AutoencoderKL" in r.stdout and "LDM" in r.stdout
      and "latent channels: 4" in r.stdout and "M parameters" in r.stdout, r.stdout + r.stderr)

r = run("info", "--vae", str(FIXTURES / "tae32.safetensors"))
check("info on a combined TAE file finds both halves",
      r.returncode == 0 and "taef2" in r.stdout and "latent channels: 32" in r.stdout
      and "encoder:         none" not in r.stdout, r.stdout + r.stderr)

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    r = run("encode", *TAE, IMAGE, "-o", str(tmp / "latent.safetensors"))
    check("encode writes a latent", r.returncode == 0 and (tmp / "latent.safetensors").exists(),
          r.stdout + r.stderr)
    r = run("decode", *TAE, str(tmp / "latent.safetensors"), "-o", str(tmp / "decoded.png"))
    ok = r.returncode == 0 and (tmp / "decoded.png").exists()
    check("decode writes an image of the original size",
          ok and Image.open(tmp / "decoded.png").size == Image.open(IMAGE).size, r.stdout + r.stderr)

    r = run("roundtrip", *TAE, IMAGE)
    check("roundtrip prints the PSNR", r.returncode == 0 and "PSNR" in r.stdout and "dB" in r.stdout,
          r.stdout + r.stderr)

    r = run("morph", *TAE, IMAGE, IMAGE, "-n", "3", "-o", str(tmp / "morph"))
    frames = sorted((tmp / "morph").glob("morph_*.png")) if (tmp / "morph").exists() else []
    check("morph writes N in-between frames", r.returncode == 0 and len(frames) == 3,
          r.stdout + r.stderr)

    not_a_vae = tmp / "notes.safetensors"
    header = b'{"x":3}'.ljust(16)
    not_a_vae.write_bytes(len(header).to_bytes(8, "little") + header)
    r = run("info", "--vae", str(not_a_vae))
    check("a broken file: exit 2 and the file named",
          r.returncode == 2 and "notes.safetensors" in r.stderr and "tensor 'x'" in r.stderr,
          f"{r.returncode} {r.stderr}")

    r = run("decode", *TAE, str(FIXTURES / "kl16_io.safetensors"), "-o", str(tmp / "x.png"))
    check("a latent file without a latent tensor: exit 2", r.returncode == 2 and "latent" in r.stderr,
          f"{r.returncode} {r.stderr}")

    (tmp / "garbage.png").write_bytes(b"not an image at all")
    r = run("roundtrip", *TAE, str(tmp / "garbage.png"))
    check("an unreadable image: exit 2 and the file named",
          r.returncode == 2 and "garbage.png" in r.stderr, f"{r.returncode} {r.stderr}")

r = run("roundtrip", "--vae", str(FIXTURES / "tae4_decoder.safetensors"), IMAGE)
check("roundtrip without an encoder says to give one",
      r.returncode != 0 and "encoder" in r.stderr, f"{r.returncode} {r.stderr}")

r = run("info")
check("missing --vae: exit 2", r.returncode == 2 and "--vae" in r.stderr, f"{r.returncode} {r.stderr}")

r = run("morph", *TAE, IMAGE, "-o", "/tmp/never")
check("morph with one image: exit 2", r.returncode == 2, f"{r.returncode} {r.stderr}")

print(f"{len(failures) == 0 and 'all' or len(failures)} checks {'passed' if not failures else 'failed'}")
for f in failures:
    print("  " + f)
sys.exit(1 if failures else 0)
