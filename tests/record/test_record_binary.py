#!/usr/bin/env python3
"""The dreamwindow binary recording as a user runs it (headless): record.enabled for N frames
gives an MP4 that decodes to N frames (ffprobe counts them) and status.json shows the recorder's
figures; a recording folder that cannot be written is refused at start with exit 2 naming it."""
import json
import os
import subprocess
import sys
import tempfile

exe = sys.argv[1]
results = []


def run(args, timeout=600):
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp()
    return subprocess.run([exe] + args, capture_output=True, text=True, timeout=timeout, env=env)


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))


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
                      "--record.queue_frames", "120"])
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

    # 2. record.enabled with a folder that cannot be made (its parent is a file): exit 2 at start.
    blocker = os.path.join(d, "a-file")
    open(blocker, "w").write("x")
    r = run(common + ["--frames", "10", "--record.enabled", "true",
                      "--record.dir", os.path.join(blocker, "videos")])
    check("an unwritable recording folder with record.enabled exits 2 naming record.dir",
          r.returncode == 2 and "record.dir" in r.stderr and blocker in r.stderr,
          f"exit {r.returncode}, stderr {r.stderr[-800:]}")

    # 3. The same folder without record.enabled: the picture runs (recording is only refused
    #    when asked for).
    r = run(common + ["--frames", "10", "--record.dir", os.path.join(blocker, "videos")])
    check("the same folder without record.enabled does not stop the display", r.returncode == 0,
          f"exit {r.returncode}, stderr {r.stderr[-800:]}")

sys.exit(0 if all(results) else 1)
