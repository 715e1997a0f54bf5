#!/usr/bin/env python3
"""Render-loop frame times with recording on vs off (docs/benchmarks.md, "Recording").

Usage: record_overhead.py BUILD/dreamwindow [frames] [WIDTHxHEIGHT] [reps]

Runs the binary headless (SDL's offscreen driver, or x11 under xvfb-run) on the same content (the
offline source with pixel crossfades, idle motion off so each run draws the same work) twice per
repetition, alternating off/on so a change in the machine's load hits both alike:
  - paced: display.headless_paced at 60 Hz, what a viewer's display would see; record.fps 30;
  - flat out: unpaced, the loop as fast as the renderer goes; record.fps 60 (every frame).
Prints each run's p50/p99/max and the median of each mode, the recorder's figures from
status.json (frames written and dropped, encoder) and the read-back hook's own render-thread time
per frame (from the log)."""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

exe = sys.argv[1]
frames = int(sys.argv[2]) if len(sys.argv) > 2 else 600
width, height = (sys.argv[3] if len(sys.argv) > 3 else "1280x720").split("x")
reps = int(sys.argv[4]) if len(sys.argv) > 4 else 3


def run(record, paced, d):
    status = os.path.join(d, "status.json")
    args = [exe, "--headless", "--frames", str(frames), "--display.width", width,
            "--display.height", height, "--vae.decoder", "none", "--source.kind", "offline",
            "--playback.min_buffer_s", "0", "--display.idle_motion", "0",
            "--cache.dir", os.path.join(d, "cache"), "--status.path", status,
            "--display.headless_paced", "true" if paced else "false",
            "--display.headless_fps", "60", "--record.dir", os.path.join(d, "videos"),
            "--record.fps", "30" if paced else "60", "--record.min_free_mb", "0"]
    if record:
        args += ["--record.enabled", "true"]
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = d
    r = subprocess.run(args, capture_output=True, text=True, timeout=1800, env=env)
    m = re.search(r"p50 ([0-9.]+) ms\s+p99 ([0-9.]+) ms\s+max ([0-9.]+) ms", r.stdout)
    if r.returncode != 0 or not m:
        sys.exit(f"run failed (exit {r.returncode}): {r.stdout[-500:]} {r.stderr[-1500:]}")
    rec = {}
    if record:
        rec = json.load(open(status)).get("recording", {})
        hook = re.search(r"render-thread time per frame mean ([0-9.]+) ms, max ([0-9.]+) ms "
                         r"\(starting reads ([0-9.]+) ms, handing over ([0-9.]+) ms\)", r.stderr)
        rec["hook"] = (f"hook mean {hook.group(1)} ms (read {hook.group(3)}, hand-over "
                       f"{hook.group(4)}) max {hook.group(2)} ms" if hook else "hook ?")
    return tuple(float(x) for x in m.groups()), rec


for paced in (True, False):
    mode = "paced 60 Hz, record.fps 30" if paced else "flat out, record.fps 60"
    results = {False: [], True: []}
    for rep in range(reps):
        for record in (False, True):
            with tempfile.TemporaryDirectory() as d:
                (p50, p99, mx), rec = run(record, paced, d)
            results[record].append((p50, p99, mx))
            extra = ""
            if record:
                extra = (f"  written {rec.get('frames_written')} dropped {rec.get('frames_dropped')}"
                         f" {rec.get('encoder')} {rec.get('bytes', 0) / 1e6:.1f} MB; {rec['hook']}")
            print(f"{mode:28} rep {rep} recording {'on ' if record else 'off'}: p50 {p50:6.2f} ms"
                  f"  p99 {p99:6.2f} ms  max {mx:6.2f} ms{extra}", flush=True)
    off99 = statistics.median(r[1] for r in results[False])
    on99 = statistics.median(r[1] for r in results[True])
    off50 = statistics.median(r[0] for r in results[False])
    on50 = statistics.median(r[0] for r in results[True])
    print(f"{mode}: median p50 off {off50:.2f} ms on {on50:.2f} ms; median p99 off {off99:.2f} ms "
          f"on {on99:.2f} ms ({(on99 / off99 - 1) * 100:+.1f} %)", flush=True)
