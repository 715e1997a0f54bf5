#!/usr/bin/env python3
"""Soak run (by hand, not in CI): dreamwindow headless for many frames, as fast as it goes, while
its memory, open file descriptors and disk use are sampled from /proc.

    /usr/bin/python3 tools/soak.py --exe build/cpu/dreamwindow --frames 100000 [--comfy]

--comfy starts the fake ComfyUI server (tests/comfy/fake_comfy.py; its generation has no latency)
and points dreamwindow at it; without it the offline source runs. With ../shared/models present the
CPU VAE runs the real taef2 weights. Pass criteria (issue 6): after warm-up (the first 20% of the
frames, and every frame-ring slot used once) resident memory grows by less than 5 MB, the number of open descriptors does not change,
and the cache directory stays within its bound. Prints a table and exits 1 when a criterion fails.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def dir_bytes(path):
    total = 0
    for base, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(base, name))
            except OSError:
                pass
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", default=os.path.join(ROOT, "build", "cpu", "dreamwindow"))
    ap.add_argument("--frames", type=int, default=100000)
    ap.add_argument("--size", type=int, default=256, help="keyframe size (comfy.width/height)")
    ap.add_argument("--comfy", action="store_true", help="run against the fake ComfyUI server")
    ap.add_argument("--cache-entries", type=int, default=50)
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between samples")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="dw-soak-")
    status_path = os.path.join(work, "status.json")
    cache_dir = os.path.join(work, "cache")
    cmd = [args.exe, "--headless", "--frames", str(args.frames),
           "--display.width", "320", "--display.height", "180",
           "--comfy.width", str(args.size), "--comfy.height", str(args.size),
           "--cache.dir", cache_dir, "--cache.max_entries", str(args.cache_entries),
           "--status.path", status_path, "--status.interval_s", "0.5",
           "--playback.min_buffer_s", "0"]
    models = os.path.join(os.path.dirname(ROOT), "shared", "models")
    if os.path.exists(os.path.join(models, "taef2_decoder.safetensors")):
        cmd += ["--vae.decoder", os.path.join(models, "taef2_decoder.safetensors"),
                "--vae.encoder", os.path.join(models, "taef2_encoder.safetensors"),
                "--vae.backend", "cpu"]
    server = None
    if args.comfy:
        server = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests", "comfy", "fake_comfy.py"),
                                   "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = server.stdout.readline()  # "PORT <n>" once it listens
        if not line.startswith("PORT "):
            print("soak: the fake ComfyUI server did not start", file=sys.stderr)
            return 2
        port = int(line.split()[1])
        cmd += ["--source.kind", "comfy", "--comfy.urls", f"http://127.0.0.1:{port}"]

    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = work
    wrap = [] if os.environ.get("DISPLAY") else ["xvfb-run", "-a", "-s", "-screen 0 1280x720x24"]
    proc = subprocess.Popen(wrap + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # With xvfb-run the program is a grandchild: find it by its executable.
    pid = None
    end = time.monotonic() + 30
    while pid is None and time.monotonic() < end and proc.poll() is None:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.readlink(f"/proc/{entry}/exe") == os.path.realpath(args.exe):
                        pid = int(entry)
                        break
                except OSError:
                    pass
        time.sleep(0.1)
    if pid is None:
        print("soak: dreamwindow did not start:", proc.communicate()[1][-2000:], file=sys.stderr)
        return 2

    samples = []  # (seconds, frames presented, rss kB, fds, cache bytes, keyframes, warm)
    start = time.monotonic()
    while proc.poll() is None:
        try:
            with open(status_path) as f:
                st = json.load(f)
            # Warm once every ring slot has held a frame (each slot's pixels are allocated on its
            # first use, so RSS grows by ring_capacity x frame size until then, by design).
            warm = st["interpolation"]["frames"] >= st["buffer"]["ring_capacity"] + 32
            sample = (time.monotonic() - start, st["frame"]["presented"], rss_kb(pid),
                      fd_count(pid), dir_bytes(cache_dir), st["generation"]["keyframes"], warm)
            samples.append(sample)
            print("t {:7.0f} s  frames {:7d}  rss {:7.1f} MB  fds {:3d}  cache {:6.1f} MB  keyframes {}".format(
                sample[0], sample[1], sample[2] / 1024, sample[3], sample[4] / 2**20, sample[5]), flush=True)
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(args.interval)
    out, err = proc.communicate()
    if server:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)

    warm = [s for s in samples if s[1] >= 0.2 * args.frames and s[6]]
    if proc.returncode != 0 or len(warm) < 3:
        print(f"soak: exit {proc.returncode}, {len(warm)} samples after warm-up\n{err[-2000:]}", file=sys.stderr)
        return 1
    rss_growth_mb = (max(s[2] for s in warm[len(warm) // 2:]) - warm[0][2]) / 1024
    fds = sorted({s[3] for s in warm})
    cache_max_mb = max(s[4] for s in warm) / 2**20
    # A cache entry is one PNG of the keyframe size (at most ~4 bytes a pixel) plus the index.
    cache_bound_mb = args.cache_entries * (args.size * args.size * 4 + 4096) / 2**20 + 1
    rows = [
        ("frames presented", f"{samples[-1][1]}", ""),
        ("keyframes", f"{samples[-1][5]}", ""),
        ("duration", f"{samples[-1][0]:.0f} s", ""),
        ("RSS after warm-up", f"{warm[0][2] / 1024:.1f} MB", ""),
        ("RSS growth after warm-up", f"{rss_growth_mb:.2f} MB", "< 5 MB"),
        ("open fds after warm-up", ", ".join(map(str, fds)), "constant"),
        ("cache directory (max)", f"{cache_max_mb:.1f} MB", f"<= {cache_bound_mb:.1f} MB"),
    ]
    ok = rss_growth_mb < 5 and len(fds) == 1 and cache_max_mb <= cache_bound_mb
    print("\n| measure | value | target |\n|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
    print("\nsoak:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
