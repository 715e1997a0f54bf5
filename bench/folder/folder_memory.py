#!/usr/bin/env python3
"""A large source.folder: its memory, and a long run with its disk coming and going
(docs/benchmarks.md, "A large folder's memory" and "A large folder for an hour").

Usage: folder_memory.py BUILD/dreamwindow memory [images] [size] [budgets_mb...]
       folder_memory.py BUILD/dreamwindow soak [minutes] [sample_every_s]
       (both need an X display for the headless GL context: run under xvfb-run -a)

memory: writes `images` (default 200) photo-like JPEGs (smooth colour fields with grain, each
different) of size x size pixels (default 1024) into a scratch folder, then for each budget in
source.folder_memory_mb (default: 16384, which holds them all, and 128) runs the binary headless
as a slideshow of that folder at keyframe size size x size (comfy.width/height), crossfades only.
It waits until status.json says the whole folder is read (folder.unread 0, folder.images all),
lets 40 more keyframes go by, and reports the resident memory then (VmRSS) and at its peak
(VmHWM), how many images are held and how many are read from disk when shown.

soak: 60 JPEGs of 512x512 with 16 MB for them (16 held, the rest read from disk when shown),
paced in real time, for `minutes` (default 20). Every 15 s something happens to the folder, in
turn: 4 images added, 4 removed, 3 replaced, the folder taken away (a disk unplugged) for 10 s and
put back. Every `sample_every_s` (default 60) it samples status.json and the process's resident
memory. The verdict: keyframes and presented frames went on in every interval, more than one
image was shown in every interval, the folder's problem cleared after each return, and the
resident memory after the first interval grew by less than 5 %.

Exits 1 when a run failed or a verdict did not hold."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image


def write_pictures(folder, names, size, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for name in names:
        a, b, c = rng.uniform(0, 2 * np.pi, 3)
        rgb = np.stack([np.sin(3 * x + a), np.sin(4 * y + b), np.sin(5 * (x + y) + c)], -1)
        rgb = (rgb * 100 + 128 + rng.normal(0, 6, rgb.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(os.path.join(folder, name), quality=90)


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


def start(exe, d, tag, folder, budget, size, extra=()):
    status_path = os.path.join(d, f"status_{tag}.json")
    env = dict(os.environ)
    for kind in ("CONFIG", "CACHE", "STATE"):
        env[f"XDG_{kind}_HOME"] = os.path.join(d, f"{kind.lower()}_{tag}")
    args = [exe, "--headless", "--source.kind", "folder", "--source.folder", folder,
            "--source.folder_memory_mb", str(budget), "--comfy.width", str(size),
            "--comfy.height", str(size), "--display.width", "320", "--display.height", "320",
            "--vae.decoder", "none", "--status.path", status_path, "--status.interval_s", "0.2",
            "--cache.dir", os.path.join(d, f"cache_{tag}")] + list(extra)
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    return proc, status_path


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def memory_run(exe, folder, count, size, budget, d):
    started = time.monotonic()
    proc, status_path = start(exe, d, str(budget), folder, budget, size)
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
        result["exit"], err = stop(proc)
    if not result["ok"]:
        result["stderr"] = err[-800:]
    return result


def memory(exe, args):
    count = int(args[0]) if args else 200
    size = int(args[1]) if len(args) > 1 else 1024
    budgets = [int(b) for b in args[2:]] or [16384, 128]
    failed = False
    with tempfile.TemporaryDirectory() as d:
        folder = os.path.join(d, "photos")
        os.makedirs(folder)
        write_pictures(folder, [f"photo_{i:04d}.jpg" for i in range(count)], size, 7)
        on_disk_mb = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)) / 2**20
        print(f"{count} JPEGs of {size}x{size} ({on_disk_mb:.0f} MB on disk), keyframes {size}x{size} "
              f"({size * size * 4 / 2**20:.1f} MB each decoded)")
        print("| source.folder_memory_mb | held | read when shown | folder read in | RSS after 40 keyframes | peak RSS | exit |")
        print("|---|---|---|---|---|---|---|")
        for budget in budgets:
            r = memory_run(exe, folder, count, size, budget, d)
            failed = failed or not r["ok"] or r["exit"] != 0
            if r["ok"]:
                print(f"| {budget} | {r['held']} | {r['on_disk']} | {r['read_s']:.1f} s | "
                      f"{r['VmRSS']:.0f} MB | {r['VmHWM']:.0f} MB | {r['exit']} |")
            else:
                print(f"| {budget} | failed | | | | | {r['exit']} |  {r.get('stderr', '')}")
            print(f"  last keyframes: {r['origins']}")
    return failed


class FolderEvents:
    """What happens to the folder, in turn: add, remove, replace, unplug, plug back."""

    def __init__(self, folder, away, size):
        self.folder, self.away, self.size = folder, away, size
        self.turn, self.next_name, self.seed = 0, 1000, 100
        self.unplugged_at = None

    def images(self):
        return sorted(f for f in os.listdir(self.folder) if f.endswith(".jpg"))

    def step(self, now):
        if self.unplugged_at is not None:
            if now - self.unplugged_at >= 10:
                os.rename(self.away, self.folder)
                self.unplugged_at = None
                return "plugged back"
            return None
        self.seed += 1
        kind = self.turn % 4
        self.turn += 1
        if kind == 0:
            names = [f"photo_{self.next_name + i:04d}.jpg" for i in range(4)]
            self.next_name += 4
            # Written elsewhere and moved in whole, as a copy that settles.
            staging = self.folder + ".staging"
            os.makedirs(staging, exist_ok=True)
            write_pictures(staging, names, self.size, self.seed)
            for n in names:
                os.replace(os.path.join(staging, n), os.path.join(self.folder, n))
            return "added 4"
        if kind == 1:
            for n in self.images()[:4]:
                os.remove(os.path.join(self.folder, n))
            return "removed 4"
        if kind == 2:
            names = self.images()[-3:]
            write_pictures(self.folder, names, self.size, self.seed)
            return "replaced 3"
        os.rename(self.folder, self.away)
        self.unplugged_at = now
        return "unplugged"


def soak(exe, args):
    minutes = float(args[0]) if args else 20
    every = float(args[1]) if len(args) > 1 else 60
    size, budget = 512, 16
    failed = []
    with tempfile.TemporaryDirectory() as d:
        folder = os.path.join(d, "usb")
        os.makedirs(folder)
        write_pictures(folder, [f"photo_{i:04d}.jpg" for i in range(60)], size, 7)
        events = FolderEvents(folder, os.path.join(d, "unplugged"), size)
        proc, status_path = start(exe, d, "soak", folder, budget, size,
                                  ["--display.headless_paced", "true"])
        print(f"60 JPEGs of {size}x{size}, source.folder_memory_mb = {budget}, {minutes:g} min, "
              f"paced; an event every 15 s")
        print("| t s | RSS MB | keyframes | presented | images shown | images | on disk | problem | events |")
        print("|---:|---:|---:|---:|---:|---:|---:|---|---|")
        began = time.monotonic()
        next_event, next_sample = began + 15, began + every
        last, shown, happened, rss = None, set(), [], []
        problem_since_plug = None
        try:
            while time.monotonic() - began < minutes * 60:
                if proc.poll() is not None:
                    failed.append(f"exited with {proc.returncode}")
                    break
                now = time.monotonic()
                s = read_status(status_path)
                if s:
                    shown.add(s["generation"].get("source", ""))
                    if problem_since_plug is not None and not s["folder"]["problem"]:
                        problem_since_plug = None
                if now >= next_event:
                    what = events.step(now)
                    if what:
                        happened.append(what)
                        if what == "plugged back":
                            problem_since_plug = now
                    next_event = now + (1 if events.unplugged_at is not None else 15)
                if problem_since_plug is not None and now - problem_since_plug > 10:
                    failed.append(f"at {now - began:.0f} s the folder's problem stood 10 s after it came back")
                    problem_since_plug = None
                if now >= next_sample and s:
                    next_sample += every
                    m = memory_mb(proc.pid)
                    rss.append(m["VmRSS"])
                    k, presented = s["generation"]["keyframes"], s["frame"]["presented"]
                    f = s["folder"]
                    print(f"| {now - began:.0f} | {m['VmRSS']:.1f} | {k} | {presented} | "
                          f"{len(shown)} | {f['images']} | {f['on_disk']} | {f['problem'][:40]} | "
                          f"{', '.join(happened)} |", flush=True)
                    if last and k <= last[0]:
                        failed.append(f"no keyframe in the interval ending at {now - began:.0f} s")
                    if last and presented <= last[1]:
                        failed.append(f"no frame presented in the interval ending at {now - began:.0f} s")
                    if len(shown) < 2:
                        failed.append(f"one image only in the interval ending at {now - began:.0f} s")
                    last, shown, happened = (k, presented), set(), []
                time.sleep(0.2)
        finally:
            if events.unplugged_at is not None:
                os.rename(events.away, folder)
            code, err = stop(proc)
        if code != 0:
            failed.append(f"exit {code}: {err[-600:]}")
        if len(rss) >= 3:
            growth = (max(rss[1:]) - rss[1]) / rss[1]
            print(f"resident memory after the first interval: {rss[1]:.1f} -> max {max(rss[1:]):.1f} MB "
                  f"({100 * growth:+.1f} %)")
            if growth >= 0.05:
                failed.append(f"resident memory grew {100 * growth:.1f} %")
        errors = [l for l in err.splitlines() if "[error]" in l or "[critical]" in l]
        print(f"log: {len(errors)} error line(s)" + (f"; first: {errors[0]}" if errors else ""))
    print("verdict: " + ("PASS" if not failed else "FAIL: " + "; ".join(failed)))
    return bool(failed)


def main():
    exe, mode, rest = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "memory", sys.argv[3:]
    if mode not in ("memory", "soak"):
        sys.exit(f"unknown mode '{mode}': memory or soak")
    sys.exit(1 if (memory if mode == "memory" else soak)(exe, rest) else 0)


main()
