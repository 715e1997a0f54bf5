#!/usr/bin/env python3
"""The dreamwindow binary recording as a user runs it (headless): record.enabled for N frames
gives an MP4 that decodes to N frames (ffprobe counts them) and status.json shows the recorder's
figures; a recording folder that cannot be written does not stop the picture: it is named in the
log and status.json."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]


def run(args, timeout=600):
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp()
    return subprocess.run([exe] + args, capture_output=True, text=True, timeout=timeout, env=env)


def count_frames(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                        "-show_entries", "stream=nb_read_frames,codec_name,width,height",
                        "-of", "json", path], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return None, r.stderr
    return json.loads(r.stdout)["streams"][0], ""


with tempfile.TemporaryDirectory() as d:
    videos = os.path.join(d, "videos")
    status = os.path.join(d, "status.json")
    frames = 90
    common = ["--headless", "--cache.dir", os.path.join(d, "cache"), "--status.path", status,
              "--playback.min_buffer_s", "0", "--display.width", "320", "--display.height", "180",
              "--vae.decoder", "none"]

    # 1. Recording on from the start, one recorded frame per display frame (record.fps =
    #    headless_fps) and a queue that holds them all: exactly N frames in one playable file.
    r = run(common + ["--frames", str(frames), "--record.enabled", "true", "--record.dir", videos,
                      "--record.fps", "60", "--display.headless_fps", "60",
                      "--record.queue_frames", "120", "--record.archive_dir",
                      os.path.join(d, "archive")])
    files = sorted(f for f in os.listdir(videos) if f.endswith(".mp4")) if os.path.isdir(videos) else []
    check("a headless run with record.enabled exits 0 and writes one MP4",
          r.returncode == 0 and len(files) == 1,
          f"exit {r.returncode}, files {files}, stderr {r.stderr[-1500:]}")
    if files:
        info, err = count_frames(os.path.join(videos, files[0]))
        n = int(info.get("nb_read_frames", 0)) if info else 0
        check(f"the MP4 decodes to the {frames} frames shown", n == frames,
              f"{n} frames decoded ({info}, {err})")
        check("the MP4 has the canvas's size", info is not None and info.get("width") == 320
              and info.get("height") == 180, f"{info}")
    check("the encoder choice is logged", "recording: encoder" in r.stderr, r.stderr[-800:])
    try:
        rec = json.load(open(status)).get("recording", {})
    except (OSError, ValueError) as e:
        rec = {"error": str(e)}
    check("status.json shows the recorder's figures",
          rec.get("frames_written") == frames and rec.get("frames_dropped") == 0
          and rec.get("encoder") and rec.get("bytes", 0) > 0 and rec.get("files") == 1, f"{rec}")

    # The keyframe archive: a PNG and a JSON (prompt, seed, settings) per keyframe shown.
    archive = os.path.join(d, "archive")
    names = sorted(os.listdir(archive)) if os.path.isdir(archive) else []
    pngs = [n for n in names if n.endswith(".png")]
    jsons = [n for n in names if n.endswith(".json")]
    described = []
    for n in jsons:
        j = json.load(open(os.path.join(archive, n)))
        described.append("prompt" in j and "seed" in j and "settings" in j and "index" in j)
    check("the keyframe archive holds a PNG and a JSON per keyframe",
          len(pngs) >= 1 and len(pngs) == len(jsons) and all(described)
          and [p[:-4] for p in pngs] == [j[:-5] for j in jsons], f"{names}")

    # 2. record.enabled with a folder that cannot be made (its parent is a file; a USB disk not
    #    mounted yet): the picture runs, the log and status.json name record.dir, nothing records.
    blocker = os.path.join(d, "a-file")
    open(blocker, "w").write("x")
    os.remove(status)
    r = run(common + ["--frames", "10", "--record.enabled", "true",
                      "--record.dir", os.path.join(blocker, "videos")])
    try:
        recording = json.load(open(status)).get("recording", {})
    except (OSError, ValueError):
        recording = {}
    check("an unwritable recording folder with record.enabled: the picture runs, record.dir named",
          r.returncode == 0 and "record.dir" in r.stderr and blocker in r.stderr
          and not recording.get("on", True) and blocker in recording.get("last_error", ""),
          f"exit {r.returncode}, recording {recording}, stderr {r.stderr[-800:]}")

    # 3. The same folder without record.enabled: the picture runs (recording is only refused
    #    when asked for).
    r = run(common + ["--frames", "10", "--record.dir", os.path.join(blocker, "videos")])
    check("the same folder without record.enabled does not stop the display", r.returncode == 0,
          f"exit {r.returncode}, stderr {r.stderr[-800:]}")

    # 4. With [[output]] tables the recording is of the canvas, not of a warped output: the video
    #    has the canvas's size (not output 1's) and its last frame is the canvas screenshot.
    cfg = os.path.join(d, "outputs.toml")
    open(cfg, "w").write("[canvas]\nwidth = 280\nheight = 120\n\n[[output]]\nwidth = 160\n"
                         "height = 120\nregion = [0.0, 0.0, 0.5, 1.0]\nflip_h = true\n")
    videos2 = os.path.join(d, "videos2")
    shot = os.path.join(d, "shot.png")
    # A still picture (one seed image through the folder source) and a high quality: the test is
    # which picture is recorded, not the encoder's quality on detailed content.
    folder = os.path.join(d, "one")
    os.makedirs(folder)
    Image.fromarray((np.indices((120, 280)).sum(axis=0) % 256).astype(np.uint8)).convert(
        "RGB").save(os.path.join(folder, "only.png"))
    r = run(common + ["--config", cfg, "--frames", "20", "--screenshot", shot,
                      "--record.enabled", "true", "--record.dir", videos2, "--record.fps", "60",
                      "--record.queue_frames", "60", "--record.quality", "10",
                      "--display.idle_motion", "0", "--display.dither", "false",
                      "--source.kind", "folder", "--source.folder", folder,
                      "--comfy.width", "280", "--comfy.height", "120"])
    files = sorted(f for f in os.listdir(videos2) if f.endswith(".mp4")) if os.path.isdir(videos2) else []
    canvas_png = os.path.join(d, "shot-canvas.png")
    ok = r.returncode == 0 and len(files) == 1 and os.path.exists(canvas_png)
    check("with [[output]] tables: exit 0, one MP4 and a canvas screenshot", ok,
          f"exit {r.returncode}, files {files}, stderr {r.stderr[-1200:]}")
    if ok:
        video = os.path.join(videos2, files[0])
        info, err = count_frames(video)
        check("the recording has the canvas's size, not the output's",
              info is not None and info.get("width") == 280 and info.get("height") == 120,
              f"{info} {err}")
        last = os.path.join(d, "last.png")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", video, "-update", "1", last],
                       timeout=120)
        a = np.asarray(Image.open(last).convert("RGB"), dtype=np.float64)
        b = np.asarray(Image.open(canvas_png).convert("RGB"), dtype=np.float64)
        mse = np.mean((a - b) ** 2) if a.shape == b.shape else 1e9
        value = 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
        check("the recorded frame is the canvas (PSNR >= 35 dB against its screenshot)",
              value >= 35, f"{value:.1f} dB")

finish()
