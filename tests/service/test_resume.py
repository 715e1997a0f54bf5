#!/usr/bin/env python3
"""Resume of the real binary: run it headless, stop it, start it again: the first frame shown is
the last keyframe the previous run saved (pixels compared), the keyframe index and the theme go
on from there; a corrupt state gives a warning and a normal start from a seed."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from service_common import clean_env, small_stream_args, stop  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]


def psnr(a, b):
    if a.shape != b.shape:
        return 0.0
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def with_frames(args, n):
    out = list(args)
    out[out.index("--frames") + 1] = str(n)
    return out


def status_of(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


with tempfile.TemporaryDirectory() as d:
    env = clean_env(d)
    status_path = os.path.join(d, "status.json")
    resume_dir = os.path.join(d, "resume")
    # The screen shows the frame exactly: stretch at keyframe size, no dither, gamma 1, no idle
    # motion; one theme for the whole test, so the theme must come from the state.
    args = small_stream_args(d) + [
        "--display.fit", "stretch", "--display.dither", "false", "--display.gamma", "1",
        "--display.idle_motion", "0", "--prompts.rotate_every", "100000",
        "--service.resume_every_s", "1", "--status.interval_s", "0.2"]

    # Run 1: until a few keyframes were emitted, then SIGTERM.
    proc = subprocess.Popen([exe] + args, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    s = None
    while time.monotonic() < deadline and proc.poll() is None:
        s = status_of(status_path)
        if s and s["generation"]["keyframes"] >= 6:
            break
        time.sleep(0.2)
    code, _, err1 = stop(proc)
    check("run 1 made keyframes and exited 0 on SIGTERM", code == 0 and s is not None and
          s["generation"]["keyframes"] >= 6, f"exit {code}, status {s}, {err1[-800:]}")
    state_path = os.path.join(resume_dir, "state.json")
    state = status_of(state_path)
    check("run 1 left a resume state", state is not None and len(state.get("keyframes", [])) == 2,
          f"{state}")
    if state is None:
        sys.exit(1)
    last = state["keyframes"][-1]
    theme = state["theme"]
    saved = os.path.join(d, "saved-last.png")
    shutil.copy(os.path.join(resume_dir, f"keyframe-{last}.png"), saved)
    check("the state's theme is a theme name", bool(theme), f"{state}")

    # Run 2: the very first frame shown.
    shot = os.path.join(d, "first.png")
    r = subprocess.run([exe] + with_frames(args, 1) + ["--screenshot", shot], env=env,
                       capture_output=True, text=True, timeout=240)
    check("run 2 exits 0", r.returncode == 0, f"exit {r.returncode}: {r.stderr[-800:]}")
    check("run 2 says it continues from keyframe and theme",
          f"resume: continuing from keyframe {last} (theme '{theme}')" in r.stderr,
          r.stderr[-1500:])
    if os.path.exists(shot):
        got = np.asarray(Image.open(shot).convert("RGB"))
        want = np.asarray(Image.open(saved).convert("RGB"))
        value = psnr(got, want)
        check("the first frame shown is the previous run's last keyframe (PSNR >= 40 dB)",
              value >= 40, f"PSNR {value:.1f} dB")
    s2 = status_of(status_path)
    check("status: the keyframe on screen has the saved index and the source says resume",
          s2 is not None and s2["frame"]["keyframe"] == last and
          s2["service"]["resume_source"].startswith(f"resume state: keyframe {last}"),
          f"{s2 and s2['frame']} {s2 and s2['service']}")

    # Run 3: the dream goes on from there: higher keyframe indexes, the same theme.
    proc = subprocess.Popen([exe] + args, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    s3 = None
    while time.monotonic() < deadline and proc.poll() is None:
        s3 = status_of(status_path)
        if s3 and s3["frame"]["keyframe"] > last and s3["generation"]["theme"]:
            break
        time.sleep(0.2)
    code, _, err3 = stop(proc)
    check("run 3 plays keyframes after the saved one",
          s3 is not None and s3["frame"]["keyframe"] > last, f"{s3 and s3['frame']}")
    check("run 3 keeps the saved theme", s3 is not None and s3["generation"]["theme"] == theme,
          f"{s3 and s3['generation']['theme']} vs {theme}")
    state3 = status_of(state_path)
    check("run 3 saved a newer state", state3 is not None and state3["keyframes"][-1] > last,
          f"{state3}")

    # A corrupt state: a warning, and a normal start from a seed image.
    with open(state_path, "w") as f:
        f.write("{ this is not json")
    r = subprocess.run([exe] + with_frames(args, 30), env=env, capture_output=True,
                       text=True, timeout=240)
    check("a corrupt state: exit 0", r.returncode == 0, f"exit {r.returncode}: {r.stderr[-800:]}")
    check("a corrupt state: a warning naming it",
          "[warning] resume: the saved state cannot be used" in r.stderr and
          "state.json" in r.stderr, r.stderr[-1500:])
    s4 = status_of(status_path)
    check("a corrupt state: status says it started from a seed",
          s4 is not None and s4["service"]["resume_source"].startswith("seed image"),
          f"{s4 and s4['service']}")

finish()
