#!/usr/bin/env python3
"""Two projector outputs for a long run (docs/benchmarks.md, "Outputs: the long run").

Usage: soak_outputs.py BUILD/dreamwindow [seconds] [sample_every_s]   (needs an X display: run
under xvfb-run -s "-screen 0 1280x720x24")

Runs the binary as an installer would with two [[output]] windows side by side over one canvas
(output 2 drawn by its own thread), on the offline source so the picture keeps changing, for
`seconds` (default 600). Every `sample_every_s` (default 30) it samples status.json (each output's
presented frames, rate and skipped canvases; the loop's p99) and the process's resident memory,
then ends the run with SIGTERM and checks the exit. Prints one row per sample and a verdict:
both outputs kept presenting in every interval, and the resident memory after the first interval
grew by less than 5 % (a fence, canvas or order leaked per frame would grow it without bound)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

exe = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 600
every = float(sys.argv[3]) if len(sys.argv) > 3 else 30

CONFIG = """
[canvas]
width = 640
height = 360

[[output]]
width = 352
height = 360
region = [0.0, 0.0, 0.55, 1.0]
blend_right = 0.1

[[output]]
width = 352
height = 360
region = [0.45, 0.0, 0.55, 1.0]
blend_left = 0.1
"""


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def status(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


with tempfile.TemporaryDirectory() as d:
    config = os.path.join(d, "outputs.toml")
    with open(config, "w") as f:
        f.write(CONFIG)
    status_path = os.path.join(d, "status.json")
    env = dict(os.environ, SDL_VIDEODRIVER="x11", XDG_CONFIG_HOME=d)
    proc = subprocess.Popen(
        [exe, "--config", config, "--source.kind", "offline", "--vae.decoder", "none",
         "--comfy.width", "640", "--comfy.height", "360", "--playback.min_buffer_s", "0",
         "--cache.dir", os.path.join(d, "cache"), "--status.path", status_path,
         "--status.interval_s", "1"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "log.txt"), "w"), env=env)
    rows = []
    start = time.monotonic()
    print(f"{'t s':>6} {'RSS MB':>8} {'out1 frames':>12} {'out2 frames':>12} {'out2 fps':>9} "
          f"{'out2 skipped':>13} {'loop p99 ms':>12}")
    while time.monotonic() - start < seconds and proc.poll() is None:
        time.sleep(min(every, max(0.0, seconds - (time.monotonic() - start))))
        s = status(status_path)
        outs = s.get("outputs", [{}, {}])
        row = (time.monotonic() - start, rss_mb(proc.pid), outs[0].get("presented", 0),
               outs[1].get("presented", 0), outs[1].get("fps", 0.0), outs[1].get("skipped", 0),
               s.get("frame", {}).get("frame_ms_p99", 0.0))
        rows.append(row)
        print(f"{row[0]:6.0f} {row[1]:8.1f} {row[2]:12d} {row[3]:12d} {row[4]:9.1f} {row[5]:13d} "
              f"{row[6]:12.2f}", flush=True)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    log = open(os.path.join(d, "log.txt")).read()
    kept = all(b[2] > a[2] and b[3] > a[3] for a, b in zip(rows, rows[1:]))
    growth = (rows[-1][1] - rows[0][1]) / rows[0][1] * 100 if len(rows) > 1 else 0.0
    errors = [line for line in log.splitlines() if "[error]" in line or "[critical]" in line]
    print(f"ran {rows[-1][0]:.0f} s: alive to the end {alive}, exit {code}, both outputs presented "
          f"in every interval {kept}, RSS {rows[0][1]:.1f} -> {rows[-1][1]:.1f} MB "
          f"({growth:+.1f} %), errors in the log {len(errors)}")
    for line in errors[:5]:
        print("  " + line)
    sys.exit(0 if alive and code == 0 and kept and growth < 5 and not errors else 1)
