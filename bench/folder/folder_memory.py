#!/usr/bin/env python3
"""The memory a large source.folder costs (docs/benchmarks.md, "A large folder's memory").

Usage: folder_memory.py BUILD/dreamwindow [images] [size] [budgets_mb...]
       (needs an X display for the headless GL context: run under xvfb-run -a)

Writes `images` (default 200) JPEG photos-like pictures (smooth colour fields with grain, each
different) of size x size pixels (default 1024) into a scratch folder, then for each budget in
source.folder_memory_mb (default: 16384, which holds them all, and 128) runs the binary headless
as a slideshow of that folder at keyframe size size x size (comfy.width/height), crossfades
only. It waits until status.json says the whole folder is read (folder.unread 0, folder.images
all), lets 2 more rounds of 20 keyframes go by, and reports the resident memory then (VmRSS) and
at its peak (VmHWM), how many images are held and how many read from disk when shown, and that
the keyframes went on in name order (the origins named in status). Exits 1 when a run failed."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

exe = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
size = int(sys.argv[3]) if len(sys.argv) > 3 else 1024
budgets = [int(b) for b in sys.argv[4:]] or [16384, 128]


def write_pictures(folder):
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for i in range(count):
        a, b, c = rng.uniform(0, 2 * np.pi, 3)
        rgb = np.stack([np.sin(3 * x + a), np.sin(4 * y + b), np.sin(5 * (x + y) + c)], -1)
        rgb = (rgb * 100 + 128 + rng.normal(0, 6, rgb.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(os.path.join(folder, f"photo_{i:04d}.jpg"), quality=90)


def memory_mb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1]) / 1024
    return out


def read_status(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run(folder, budget, d):
    status_path = os.path.join(d, f"status_{budget}.json")
    env = dict(os.environ)
    for kind in ("CONFIG", "CACHE", "STATE"):
        env[f"XDG_{kind}_HOME"] = os.path.join(d, kind.lower())
    args = [exe, "--headless", "--source.kind", "folder", "--source.folder", folder,
            "--source.folder_memory_mb", str(budget), "--comfy.width", str(size),
            "--comfy.height", str(size), "--display.width", "320", "--display.height", "320",
            "--vae.decoder", "none", "--status.path", status_path, "--status.interval_s", "0.2",
            "--cache.dir", os.path.join(d, f"cache_{budget}")]
    started = time.monotonic()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    result = {"budget": budget, "ok": False}
    try:
        read_at, keyframes_then, origins = None, None, []
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            s = read_status(status_path)
            time.sleep(0.2)
            if not s:
                continue
            folder_s, k = s.get("folder", {}), s["generation"]["keyframes"]
            origin = s["generation"].get("source", "")
            if not origins or origins[-1] != origin:
                origins.append(origin)
            if read_at is None and folder_s.get("unread") == 0 and folder_s.get("images") == count:
                read_at, keyframes_then = time.monotonic() - started, k
            if read_at is not None and k >= keyframes_then + 40:
                result.update(memory_mb(proc.pid))
                result.update(ok=True, read_s=read_at, on_disk=folder_s.get("on_disk"),
                              held=count - folder_s.get("on_disk", 0), keyframes=k)
                break
        result["origins"] = origins[-6:]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    result["exit"] = proc.returncode
    if not result["ok"]:
        result["stderr"] = err[-800:]
    return result


def main():
    failed = False
    with tempfile.TemporaryDirectory() as d:
        folder = os.path.join(d, "photos")
        os.makedirs(folder)
        write_pictures(folder)
        on_disk_mb = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)) / 2**20
        print(f"{count} JPEGs of {size}x{size} ({on_disk_mb:.0f} MB on disk), keyframes {size}x{size} "
              f"({size * size * 4 / 2**20:.1f} MB each decoded)")
        print("| source.folder_memory_mb | held | read when shown | folder read in | RSS after 40 keyframes | peak RSS | exit |")
        print("|---|---|---|---|---|---|---|")
        for budget in budgets:
            r = run(folder, budget, d)
            failed = failed or not r["ok"] or r["exit"] != 0
            if r["ok"]:
                print(f"| {budget} | {r['held']} | {r['on_disk']} | {r['read_s']:.1f} s | "
                      f"{r['VmRSS']:.0f} MB | {r['VmHWM']:.0f} MB | {r['exit']} |")
            else:
                print(f"| {budget} | failed | | | | | {r['exit']} |  {r.get('stderr', '')}")
            print(f"  last keyframes: {r['origins']}")
    sys.exit(1 if failed else 0)


main()
