#!/usr/bin/env python3
"""The overlay as a user sees it, through the real binary headless: --screenshot-overlay shows the
frame-time graph with drawn pixels, a 640x360 window keeps part of the picture in view, an edit saved from the parameter panel survives a restart (the
second run reads it back from the config file), log_level edited live takes effect at once, and the
cache lands where --help says it does."""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]
GRAPH_RGB = (77, 217, 255)  # the overlay's frame-time line colour (kGraphColour in overlay.cpp)


def run(args, home, extra_env=None, timeout=240):
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = os.path.join(home, "config")
    env["XDG_CACHE_HOME"] = os.path.join(home, "cache")
    env["XDG_STATE_HOME"] = os.path.join(home, "state")
    env.update(extra_env or {})
    return subprocess.run([exe] + args, capture_output=True, text=True, timeout=timeout, env=env)


def near_graph_colour(img):
    """Pixels close to the graph's line colour (the overlay is 92 % opaque over the picture)."""
    diff = np.abs(img.astype(np.int32) - np.array(GRAPH_RGB)).max(axis=2)
    return diff < 40


def graph_like(img):
    """Pixels of the graph line's hue (GRAPH_RGB: green and blue far above red), its anti-aliased
    edges included: a steady 60 Hz draws a flat line that can fall between two pixel rows, and then
    no pixel is near the full colour (the window's blues and the text are not of this hue). Every
    pixel near the full colour is of this hue too."""
    rgb = img.astype(np.int32)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (green - red >= 45) & (blue - red >= 60)


HEADLESS = ["--headless", "--display.headless_paced", "true", "--playback.min_buffer_s", "0",
            "--display.width", "960", "--display.height", "540"]

with tempfile.TemporaryDirectory() as d:
    # 1. The graph is drawn: in the stats window's top part the overlay screenshot has line-coloured
    #    pixels where the same frame without the overlay has none.
    plain, over = os.path.join(d, "plain.png"), os.path.join(d, "overlay.png")
    r = run(HEADLESS + ["--frames", "45", "--screenshot", plain, "--screenshot-overlay", over], d)
    ok = r.returncode == 0 and os.path.exists(plain) and os.path.exists(over)
    drawn = 0
    if ok:
        a = np.asarray(Image.open(plain).convert("RGB"))[0:200, 0:480]
        b = np.asarray(Image.open(over).convert("RGB"))[0:200, 0:480]
        # Not where the picture itself has the line's colour (it shows through the overlay).
        drawn = int(np.count_nonzero(graph_like(b) & ~near_graph_colour(a)))
    check("the frame-time graph has drawn pixels (>= 100 in the stats window)", ok and drawn >= 100,
          f"exit {r.returncode}, {drawn} pixels, stderr {r.stderr[-600:]}")
    check("the overlay screenshot differs from the plain one",
          ok and not np.array_equal(np.asarray(Image.open(plain)), np.asarray(Image.open(over))))

    # 1b. In a small window both overlay windows fit and part of the picture stays in view: at
    #     640x360 the parameters used to open at x 484, 460 wide (cut off, the picture covered).
    small = HEADLESS[:-4] + ["--display.width", "640", "--display.height", "360"]
    plain, over = os.path.join(d, "plain_s.png"), os.path.join(d, "overlay_s.png")
    r = run(small + ["--frames", "30", "--screenshot", plain, "--screenshot-overlay", over], d)
    ok = r.returncode == 0 and os.path.exists(plain) and os.path.exists(over)
    same = 0.0
    if ok:
        a = np.asarray(Image.open(plain).convert("RGB"))[60:350, 345:630].astype(np.int32)
        b = np.asarray(Image.open(over).convert("RGB"))[60:350, 345:630].astype(np.int32)
        same = float(np.mean(np.abs(a - b).max(axis=2) <= 2))
    check("at 640x360 the right half of the picture shows beside the overlay (>= 90 % unchanged)",
          ok and same >= 0.9, f"exit {r.returncode}, {same:.0%} unchanged, stderr {r.stderr[-400:]}")

    # 2. Saved overlay edits survive a restart: a live value, a restart value and a list, into
    #    the default config file (created with its folder), read back by a second run.
    home = os.path.join(d, "home")
    edits = ["display.gamma=1.7", "display.width=640", "comfy.bindings=seed=3.seed,image=10.image"]
    args = HEADLESS + ["--frames", "3"]
    for e in edits:
        args += ["--overlay-edit", e]
    r = run(args + ["--overlay-save"], home)
    saved = os.path.join(home, "config", "dreamwindow", "config.toml")
    check("save writes the default config file", r.returncode == 0 and os.path.exists(saved),
          f"exit {r.returncode}, stderr {r.stderr[-600:]}")
    r2 = run(["--print-config"], home)
    want = ["gamma = 1.7", "width = 640", 'bindings = ["seed=3.seed", "image=10.image"]']
    check("a second run reads the saved edits back", r2.returncode == 0 and all(
        w in r2.stdout for w in want), f"exit {r2.returncode}, stdout {r2.stdout[:400]!r}")
    leftovers = [f for f in os.listdir(os.path.dirname(saved)) if f != "config.toml"]
    check("no temporary file is left beside the config", not leftovers, str(leftovers))

    #    An explicit --config file keeps the values it already set; unsaved edits are not written.
    explicit = os.path.join(d, "mine.toml")
    with open(explicit, "w") as f:
        f.write("[display]\nbrightness = 1.25\n\n[cache]\nmax_entries = 77\n")
    r = run(HEADLESS + ["--frames", "3", "--config", explicit,
                                   "--overlay-edit", "comfy.steps=9", "--overlay-save"], d)
    r2 = run(["--print-config", "--config", explicit], d)
    out = r2.stdout
    check("saving into --config keeps the file's own values",
          r.returncode == 0 and all(w in out for w in ["brightness = 1.25", "max_entries = 77",
                                                       "steps = 9"]),
          f"exit {r.returncode}/{r2.returncode}, stderr {r.stderr[-400:]}, stdout {out[:300]!r}")
    r = run(HEADLESS + ["--frames", "3", "--config", explicit, "--overlay-edit",
                        "comfy.steps=11"], d)
    r2 = run(["--print-config", "--config", explicit], d)
    check("an edit without save leaves the file alone",
          r.returncode == 0 and "steps = 9" in r2.stdout, r2.stdout[:300])

    # 3. log_level is live: an edit through the panel to "info" after starting at "warn" makes the
    #    run's later info lines (the screenshot message) appear; without the edit they do not.
    shot = os.path.join(d, "l.png")
    base = HEADLESS + ["--frames", "3", "--log_level", "warn", "--screenshot", shot]
    quiet = run(base, d)
    loud = run(base + ["--overlay-edit", "log_level=info"], d)
    check("log_level edited live applies at once",
          quiet.returncode == 0 and loud.returncode == 0 and "screenshot written" not in
          quiet.stderr and "screenshot written" in loud.stderr,
          f"quiet {quiet.stderr[-300:]!r}, loud {loud.stderr[-300:]!r}")

    # 4. cache.dir's help names the folder the cache really uses when it is empty.
    home = os.path.join(d, "cachehome")
    r = run(HEADLESS + ["--frames", "60"], home)
    frames_dir = os.path.join(home, "cache", "dreamwindow", "frames")
    help_text = run(["--help"], home).stdout
    m = re.search(r"--cache\.dir \S+\s+.*\(empty: ([^)]*)\)", help_text)
    named = m.group(1).replace("$XDG_CACHE_HOME", os.path.join(home, "cache")) if m else ""
    check("cache.dir's help names the default folder the cache is written to",
          r.returncode == 0 and os.path.isdir(frames_dir) and os.path.normpath(named) ==
          os.path.normpath(frames_dir), f"help names {named!r}, exists {os.path.isdir(frames_dir)}")

finish()
