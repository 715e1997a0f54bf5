#!/usr/bin/env python3
"""source.kind = folder with source.folder on a disk that is not mounted yet, through the real
binary headless: the program starts (no exit 2, no restart loop), the picture runs on the default
seeds, the log and status.json name source.folder and why; once the folder appears with images,
status clears and the keyframes are those images (the keyframe archive holds each keyframe as it
goes to the screen: its origin and its pixels are checked). Then a folder larger than its memory
budget (source.folder_memory_mb), half of its images in a subfolder: the images over the budget
are read from disk when shown, and every one of them still reaches the screen with its own
picture. Every wait is for an event with a
deadline."""
import glob
import json
import os
import sys
import tempfile

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "control"))
from dw_app import App, Checks  # noqa: E402

exe = sys.argv[1]
c = Checks()
COLOURS = {"a.png": (240, 30, 30), "b.png": (30, 240, 30)}


def archived_origins(archive):
    """The folder image names the archived keyframes came from."""
    names = set()
    for meta in glob.glob(os.path.join(archive, "*.json")):
        try:
            with open(meta) as f:
                origin = json.load(f).get("origin", "")
        except (OSError, ValueError):
            continue  # being written
        if origin.startswith("folder "):
            names.add(origin[len("folder "):])
    return names


def folder_keyframes(archive, colours=COLOURS):
    """{name: [mean RGB of each archived keyframe whose origin is that folder image]}"""
    found = {}
    for meta in glob.glob(os.path.join(archive, "*.json")):
        try:
            with open(meta) as f:
                origin = json.load(f).get("origin", "")
            pixels = np.asarray(Image.open(meta[:-5] + ".png").convert("RGB"), dtype=np.float64)
        except (OSError, ValueError):
            continue  # being written
        name = origin[len("folder "):] if origin.startswith("folder ") else None
        if name in colours:
            found.setdefault(name, []).append(pixels.reshape(-1, 3).mean(axis=0))
    return found


with tempfile.TemporaryDirectory() as d:
    usb = os.path.join(d, "usb")  # not mounted yet
    archive = os.path.join(d, "archive")
    app = App(exe, d, "[playback]\ntarget_buffer_s = 3.0\n",
              ["--source.folder", usb, "--record.archive_dir", archive], source_kind="folder")
    s = app.wait_status(lambda s: s["frame"]["presented"] > 0 and s["generation"]["keyframes"] > 1)
    c.check("a missing source.folder: the program runs and makes keyframes", s is not None,
            app.log_text()[-1500:])
    problem = (s or {}).get("folder", {}).get("problem", "")
    c.check("status names source.folder and why", s is not None and
            s["folder"]["path"] == usb and "no such folder" in problem and
            "default seed images" in problem and s["folder"]["watched"] is True, s and s.get("folder"))
    line = app.wait_log(lambda l: "source.folder" in l and usb in l and "no such folder" in l)
    c.check("the log warns naming the key, the path and why", line is not None,
            app.log_text()[-1500:])
    presented = s["frame"]["presented"] if s else 0
    c.check("the picture runs meanwhile",
            app.wait_status(lambda s: s["frame"]["presented"] > presented + 30) is not None,
            app.status())

    # The disk is mounted: the folder appears whole, with two images.
    staging = os.path.join(d, "staging")
    os.makedirs(staging)
    for name, rgb in COLOURS.items():
        Image.new("RGB", (64, 64), rgb).save(os.path.join(staging, name))
    os.rename(staging, usb)
    s = app.wait_status(lambda s: s["folder"]["problem"] == "" and s["folder"]["images"] == 2)
    c.check("status clears once the folder is there", s is not None, app.status())
    line = app.wait_log(lambda l: "source.folder" in l and "2 images" in l)
    c.check("the log says the folder's images are used", line is not None, app.log_text()[-1500:])
    # (wait_status polls until the predicate holds; here it reads the archive)
    shown = app.wait_status(lambda _: len(folder_keyframes(archive)) == 2) and \
        folder_keyframes(archive)
    c.check("keyframes from both of the folder's images reach the screen", shown is not None,
            sorted(os.listdir(archive)) if os.path.isdir(archive) else "no archive")
    for name, means in (shown or {}).items():
        c.check(f"the keyframes from {name} show it", all(
            np.abs(m - np.array(COLOURS[name])).max() < 12 for m in means), means)
    s = app.wait_status(lambda s: s["generation"]["source"] in ("folder a.png", "folder b.png"))
    c.check("status shows the folder's image as the keyframe source", s is not None,
            app.status() and app.status()["generation"])
    presented = (app.status() or {}).get("frame", {}).get("presented", 0)
    c.check("the picture goes on",
            app.wait_status(lambda s: s["frame"]["presented"] > presented + 30) is not None,
            app.status())

    code = app.stop()
    c.check("SIGTERM ends it cleanly (exit 0)", code == 0, app.log_text()[-800:])

# 20 images of 512x512 keyframes (1 MB each) with 16 MB for them: 16 held, 4 read from disk; the
# last 10 in DCIM/100CANON.
with tempfile.TemporaryDirectory() as d:
    photos = os.path.join(d, "photos")
    archive = os.path.join(d, "archive")
    os.makedirs(photos)
    # Half of them where a camera puts them, in a subfolder (shown by default, by path).
    colours = {("DCIM/100CANON/" if i >= 10 else "") + f"p{i:02d}.png":
               (20 + 11 * i, 230 - 9 * i, 60 + 7 * (i % 5)) for i in range(20)}
    os.makedirs(os.path.join(photos, "DCIM", "100CANON"))
    for name, rgb in colours.items():
        Image.new("RGB", (96, 96), rgb).save(os.path.join(photos, name))
    app = App(exe, d, "[playback]\ntarget_buffer_s = 3.0\n",
              ["--source.folder", photos, "--source.folder_memory_mb", "16", "--comfy.width", "512",
               "--comfy.height", "512", "--record.archive_dir", archive], source_kind="folder")
    s = app.wait_status(lambda s: s["folder"]["images"] == 20 and s["folder"]["on_disk"] == 4)
    c.check("over its memory budget: 20 images in use, 4 of them read from disk when shown",
            s is not None, app.status() and app.status().get("folder"))
    # Polled by origin (the archive's JSON); the pixels are read once, at the end.
    every = app.wait_status(lambda _: len(archived_origins(archive) & set(colours)) == 20,
                            timeout=240)
    c.check("every image reaches the screen, those not held in memory too", every is not None,
            sorted(archived_origins(archive)))
    shown = folder_keyframes(archive, colours)
    wrong = {name: [m.round().tolist() for m in means] for name, means in (shown or {}).items()
             if not all(np.abs(m - np.array(colours[name])).max() < 12 for m in means)}
    c.check("the pixels of all 20 were read", len(shown) == 20, sorted(shown))
    c.check("each keyframe shows its own image", not wrong, wrong)
    code = app.stop()
    c.check("SIGTERM ends it cleanly (exit 0)", code == 0, app.log_text()[-800:])

sys.exit(c.exit_code())
