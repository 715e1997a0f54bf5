#!/usr/bin/env python3
"""dreamwindow headless with no X server at all (DISPLAY and WAYLAND_DISPLAY unset): the run goes
through SDL's offscreen EGL driver (llvmpipe under Mesa here, the NVIDIA driver on a GPU machine),
exits 0, says which driver and renderer it used, and its screenshot is exactly what would be on
screen: one seed image shown through the folder source at its own size."""
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]
source_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


with tempfile.TemporaryDirectory() as d:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    env["XDG_CONFIG_HOME"] = d
    folder = os.path.join(d, "one")
    os.makedirs(folder)
    seed = Image.open(os.path.join(source_dir, "assets", "seeds", "seed_03_aurora.png")).convert("RGB")
    seed = seed.resize((192, 128), Image.BILINEAR)
    seed.save(os.path.join(folder, "only.png"))
    shot = os.path.join(d, "shot.png")
    r = subprocess.run([exe, "--headless", "--frames", "60", "--screenshot", shot,
                        "--source.kind", "folder", "--source.folder", folder,
                        "--cache.dir", os.path.join(d, "cache"),
                        "--status.path", os.path.join(d, "status.json"),
                        "--playback.min_buffer_s", "0", "--vae.decoder", "none",
                        "--display.width", "192", "--display.height", "128",
                        "--comfy.width", "192", "--comfy.height", "128", "--display.fit", "stretch",
                        "--display.dither", "false", "--display.gamma", "1", "--display.idle_motion", "0"],
                       capture_output=True, text=True, timeout=240, env=env)
    check("no X server: exit 0 with a screenshot", r.returncode == 0 and os.path.exists(shot),
          f"exit {r.returncode}, stderr {r.stderr[-800:]}")
    check("the log names SDL's offscreen driver and the GL renderer",
          "video driver 'offscreen'" in r.stderr and "OpenGL" in r.stderr, r.stderr[-800:])
    if os.path.exists(shot):
        got = np.asarray(Image.open(shot).convert("RGB")).astype(np.float64)
        want = np.asarray(seed).astype(np.float64)
        mse = np.mean((got - want) ** 2) if got.shape == want.shape else 1e9
        value = 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
        check("the screenshot is the seed image (PSNR >= 40 dB)", value >= 40,
              f"PSNR {value:.1f} dB, shape {got.shape}")

finish()
