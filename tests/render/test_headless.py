#!/usr/bin/env python3
"""The dreamwindow binary as a user runs it headless (under Xvfb): screenshots show what would be
on screen, statistics are printed, a broken shader names its file and line, bad display settings
are refused clearly."""
import json
import os
import re
import signal
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]
source_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(args, env_extra=None, timeout=240):
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp()
    env.update(env_extra or {})
    return subprocess.run([exe] + args, capture_output=True, text=True, timeout=timeout, env=env)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


with tempfile.TemporaryDirectory() as d:
    common = ["--headless", "--cache.dir", os.path.join(d, "cache"),
              "--status.path", os.path.join(d, "status.json"), "--playback.min_buffer_s", "0"]

    # 1. The screenshot is exactly what would be shown: one seed image through the folder source,
    #    stretch fit at its own size, gamma 1, no dither.
    folder = os.path.join(d, "one")
    os.makedirs(folder)
    seed = Image.open(os.path.join(source_dir, "assets", "seeds", "seed_07_crystal.png")).convert("RGB")
    seed = seed.resize((256, 256), Image.BILINEAR)
    seed.save(os.path.join(folder, "only.png"))
    shot = os.path.join(d, "shot.png")
    r = run(common + ["--frames", "90", "--screenshot", shot, "--source.kind", "folder",
                      "--source.folder", folder, "--display.width", "256", "--display.height", "256",
                      "--comfy.width", "256", "--comfy.height", "256", "--display.fit", "stretch",
                      "--display.dither", "false", "--display.gamma", "1", "--vae.decoder", "none", "--display.idle_motion", "0"])
    ok = r.returncode == 0 and os.path.exists(shot)
    value = psnr(np.asarray(Image.open(shot).convert("RGB")), np.asarray(seed)) if ok else 0
    check("screenshot matches the seed image (PSNR >= 40 dB)", ok and value >= 40,
          f"exit {r.returncode}, PSNR {value:.1f} dB, stderr {r.stderr[-800:]}")

    # 2. A 600-frame run prints the frame-time statistics; the default (offline) stream is alive.
    shot2 = os.path.join(d, "default.png")
    r = run(common + ["--frames", "600", "--screenshot", shot2, "--display.width", "320",
                      "--display.height", "180"])
    m = re.search(r"frames: 600 .*p50 ([0-9.]+) ms\s+p99 ([0-9.]+) ms", r.stdout)
    check("600-frame headless run prints p50/p99", r.returncode == 0 and m is not None,
          f"exit {r.returncode}, stdout {r.stdout[-500:]}, stderr {r.stderr[-500:]}")
    if os.path.exists(shot2):
        pixels = np.asarray(Image.open(shot2).convert("RGB")).astype(np.float64)
        check("the default stream is not black and not flat", pixels.mean() > 20 and pixels.std() > 10,
              f"mean {pixels.mean():.1f}, std {pixels.std():.1f}")
    else:
        check("the default stream is not black and not flat", False, "no screenshot")

    # 3. A shader that does not compile is named with its file and line.
    data = os.path.join(d, "data")
    shutil.copytree(os.path.join(source_dir, "shaders"), os.path.join(data, "shaders"))
    frag = os.path.join(data, "shaders", "present.frag")
    lines = open(frag).read().split("\n")
    broken = next(i for i, l in enumerate(lines) if "vec3 c = mix" in l)
    lines[broken] = lines[broken].replace(";", "")  # a syntax error on this line
    open(frag, "w").write("\n".join(lines))
    r = run(common + ["--frames", "5"], env_extra={"DREAMWINDOW_DATA_DIR": data})
    named = re.search(r"present\.frag:(\d+):", r.stderr)
    line_ok = named is not None and abs(int(named.group(1)) - (broken + 1)) <= 1
    check("broken shader: error names present.frag and its line", r.returncode != 0 and line_ok,
          f"exit {r.returncode}, stderr {r.stderr[-800:]}")

    # 4. A display that does not exist is refused with the list of displays, exit code 2.
    r = run(common + ["--frames", "5", "--display.index", "7"])
    check("missing display index: exit 2 naming display.index",
          r.returncode == 2 and "display.index = 7" in r.stderr, f"exit {r.returncode}, {r.stderr[-400:]}")

    # 5. SIGTERM and SIGINT while the stream runs (with the real taef2 VAE decoding on the CPU when
    #    ../shared/models has it): exit 0 within 2 s, with the final status.json written.
    models = os.path.join(os.path.dirname(source_dir), "shared", "models")
    vae = []
    if os.path.exists(os.path.join(models, "taef2_decoder.safetensors")):
        vae = ["--vae.decoder", os.path.join(models, "taef2_decoder.safetensors"),
               "--vae.encoder", os.path.join(models, "taef2_encoder.safetensors"),
               "--vae.backend", "cpu", "--comfy.width", "256", "--comfy.height", "256"]
    for sig in (signal.SIGTERM, signal.SIGINT):
        status = os.path.join(d, f"status-{sig.name}.json")
        env = dict(os.environ)
        env["XDG_CONFIG_HOME"] = tempfile.mkdtemp()
        args = [exe, "--headless", "--frames", "0", "--cache.dir", os.path.join(d, "cache-sig"),
                "--status.path", status, "--status.interval_s", "0.2",
                "--display.width", "320", "--display.height", "180"] + vae
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        # Wait (with a deadline) until the pipeline has produced frames: status.json reports them.
        deadline = time.monotonic() + 120
        running = False
        while time.monotonic() < deadline and proc.poll() is None and not running:
            try:
                with open(status) as f:
                    running = json.load(f)["interpolation"]["frames"] > 0
            except (OSError, ValueError, KeyError):
                pass
            if not running:
                time.sleep(0.05)
        os.remove(status) if os.path.exists(status) else None
        start = time.monotonic()
        proc.send_signal(sig)
        try:
            out, err = proc.communicate(timeout=30)
            took = time.monotonic() - start
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            took = 99.0
        check(f"{sig.name} mid-stream: exit 0 within 2 s, final status.json written",
              running and proc.returncode == 0 and took <= 2.0 and os.path.exists(status),
              f"running {running}, exit {proc.returncode}, took {took:.2f} s, "
              f"status written {os.path.exists(status)}, stderr {err[-600:]}")

finish()
