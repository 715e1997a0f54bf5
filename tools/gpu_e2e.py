#!/usr/bin/env python3
"""The whole app end to end, headless on EGL (SDL's offscreen driver: no X server), as a GPU machine
runs it for tools/gpu_check.sh: keyframes from the fake ComfyUI server at a fixed rate, the display
paced at 60 Hz, optionally a second GPU load (a PyTorch matmul loop standing in for SD sampling),
and one run per (model, size). Per run it prints one line

  E2E model=.. size=.. exit=.. shown_fps=.. frame_p50_ms=.. frame_p99_ms=.. produced_fps=..
      gpu_ms_per_frame=.. host_copies_per_frame=.. vram_mib=.. interop=.. backend=..

and at the end, with --load, one line for the second load over all runs:

  E2E_LOAD tflops=..

measured as:
  produced_fps   content frames decoded per second (status.json interpolation.frames, sampled
                 every 0.5 s; the slope over the second half of the run, the steady state)
  shown_fps      content frames shown per second (the app's own summary line)
  frame_p50/p99  display frame times of the paced 60 Hz loop (the app's summary line)
  gpu_ms_per_frame  GPU time of the backend's batches per frame written (CUDA events, the app's
                 exit log); it counts time the GPU gave the second load while a batch was queued
  vram_mib       the app's largest GPU memory in use (nvidia-smi --query-compute-apps, sampled)
  host_copies_per_frame  frames the backend copied to the host per frame written (0 when CUDA-GL
                 interop carries every frame; the cache's small per-pair previews are not frames)
  interop        whether the app logged CUDA-GL interop on, and its GL renderer
  E2E_LOAD       what the second load achieved meanwhile (bf16 matmul TFLOPS)

--budget-s bounds the whole script: a run that would not fit in what is left is skipped with an
E2E_SKIPPED line. SIGTERM (a `timeout` around it) ends it through its clean-up: the app, the load
and the server are stopped, and the load's figure is still printed.

  tools/gpu_e2e.py --exe build/cuda/dreamwindow --models sd=W.safetensors,taef2=D.safetensors:E.safetensors
                   [--sizes 512,1024] [--seconds 10] [--load] [--backend cuda] [--out DIR]

--dry-run: the same harness on a machine without a GPU (CPU backend, small sizes, no load, no
nvidia-smi): checks the server, the app, EGL and every parser, and prints the same lines.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FAKE_COMFY = os.path.join(ROOT, "tests", "comfy", "fake_comfy.py")

LOAD_SCRIPT = r"""
import signal, sys, time, torch
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
print("LOAD ready", flush=True)
n, start = 0, time.perf_counter()
while not stop:
    for _ in range(10):
        c = a @ b
    torch.cuda.synchronize()
    n += 10
seconds = time.perf_counter() - start
print(f"LOAD tflops={2 * 8192 ** 3 * n / seconds / 1e12:.1f}", flush=True)
"""


def start_fake_server(python, latency):
    server = subprocess.Popen([python, FAKE_COMFY, "--port", "0"], stdout=subprocess.PIPE,
                              text=True)
    line = server.stdout.readline()
    if not line.startswith("PORT"):
        server.kill()
        raise RuntimeError(f"fake ComfyUI did not start: {line!r}")
    url = "http://127.0.0.1:" + line.split()[1]
    body = json.dumps({"kind": "latency", "seconds": latency}).encode()
    request = urllib.request.Request(url + "/_control/fault", data=body,
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
    return server, url


def sample_vram(pid):
    """MiB of GPU memory the process holds, or None when nvidia-smi cannot say."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True,
                             timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0] == str(pid) and parts[1].isdigit():
            return int(parts[1])
    return None


def interpolated_frames(status_path):
    try:
        with open(status_path) as f:
            data = json.load(f)
        return int(data["interpolation"]["frames"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def steady_rate(samples):
    """Frames per second over the second half of (time, frames) samples."""
    samples = [s for s in samples if s[1] is not None]
    if len(samples) < 4:
        return None
    half = samples[len(samples) // 2:]
    (t0, f0), (t1, f1) = half[0], half[-1]
    return (f1 - f0) / (t1 - t0) if t1 > t0 else None


def stop_process(process, grace_s):
    """SIGTERM, then SIGKILL after grace_s; waits for the process to be gone."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stop_load(load):
    """Ends the second load and prints what it achieved (E2E_LOAD)."""
    if load.poll() is None:
        load.send_signal(signal.SIGTERM)
    try:
        out, _ = load.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        load.kill()
        out, _ = load.communicate()
    m = re.search(r"LOAD tflops=([0-9.]+)", out or "")
    print(f"E2E_LOAD tflops={m.group(1) if m else '?'}", flush=True)


def run_case(args, name, weights, size, url, work):
    decoder, _, encoder = weights.partition(":")
    status = os.path.join(work, f"status-{name}-{size}.json")
    frames = int(args.seconds * 60)
    command = [args.exe, "--headless", "--frames", str(frames),
               "--display.headless_paced", "true", "--display.headless_fps", "60",
               "--display.width", str(args.display_width), "--display.height",
               str(args.display_height), "--display.content_fps", str(args.content_fps),
               "--source.kind", "comfy", "--comfy.urls", url, "--comfy.in_flight", "1",
               "--comfy.width", str(size), "--comfy.height", str(size),
               "--vae.backend", args.backend, "--vae.decoder", decoder,
               "--interpolation.frames_between", str(args.frames_between),
               "--playback.min_buffer_s", "1", "--playback.target_buffer_s", "4",
               "--cache.dir", os.path.join(work, f"cache-{name}-{size}"),
               "--status.path", status, "--status.interval_s", "0.5"]
    if encoder:
        command += ["--vae.encoder", encoder]
    if args.backend == "cpu":
        command += ["--vae.cpu_threads", "0"]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["XDG_CONFIG_HOME"] = work
    log_path = os.path.join(args.out, f"e2e-{name}-{size}.log")
    with open(log_path, "w") as log:
        app = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        samples, vram = [], []
        stdout = []
        reader = threading.Thread(target=lambda: stdout.extend(app.stdout), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + args.seconds + args.startup_timeout
            while app.poll() is None and time.monotonic() < deadline:
                samples.append((time.monotonic(), interpolated_frames(status)))
                if not args.dry_run:
                    vram.append(sample_vram(app.pid))
                time.sleep(0.5)  # the sampling period of the measurement, not a wait for a thread
        finally:  # also when SIGTERM ends the script mid-run: the app never outlives it
            stop_process(app, 20)
        reader.join(timeout=5)
    text = open(log_path).read()
    summary = next((l for l in stdout if l.startswith("frames:")), "")
    fields = {"model": name, "size": size, "exit": app.returncode}
    m = re.search(r"p50 ([0-9.]+) ms\s+p99 ([0-9.]+) ms.*content ([0-9.]+) fps", summary)
    fields["shown_fps"] = m.group(3) if m else "?"
    fields["frame_p50_ms"] = m.group(1) if m else "?"
    fields["frame_p99_ms"] = m.group(2) if m else "?"
    rate = steady_rate(samples)
    fields["produced_fps"] = f"{rate:.1f}" if rate is not None else "?"
    m = re.search(r"vae cuda: (\d+) frames on the GPU, (\d+) copied to the host.*GPU time "
                  r"([0-9.]+) ms in all", text)
    if m:
        gpu_frames, host_frames, total_ms = int(m.group(1)), int(m.group(2)), float(m.group(3))
        written = max(1, gpu_frames + host_frames)
        fields["gpu_ms_per_frame"] = f"{total_ms / written:.3f}"
        fields["host_copies_per_frame"] = f"{host_frames / written:.2f}"
    else:
        fields["gpu_ms_per_frame"] = fields["host_copies_per_frame"] = "n/a"
    known = [v for v in vram if v is not None]
    fields["vram_mib"] = max(known) if known else "n/a"
    m = re.search(r"CUDA-GL interop on \(([^)]*)\)", text)
    fields["interop"] = ("on:" + m.group(1).replace(" ", "_")) if m else "off"
    m = re.search(r"vae: .* on the (\w+) backend", text)
    fields["backend"] = m.group(1) if m else "none"  # no VAE: the app crossfades pixels
    return fields


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe", required=True)
    parser.add_argument("--models", required=True,
                        help="name=decoder[:encoder],... (KL files hold both halves)")
    parser.add_argument("--sizes", default="512,1024")
    parser.add_argument("--seconds", type=float, default=10.0, help="displayed seconds per run")
    parser.add_argument("--startup-timeout", type=float, default=40.0)
    parser.add_argument("--keyframe-seconds", type=float, default=0.25,
                        help="the fake server's time per keyframe (one request at a time)")
    parser.add_argument("--content-fps", type=float, default=30.0)
    parser.add_argument("--frames-between", type=int, default=10,
                        help="in-between frames per keyframe pair (interpolation.frames_between)")
    parser.add_argument("--display-width", type=int, default=1280)
    parser.add_argument("--display-height", type=int, default=720)
    parser.add_argument("--backend", default="cuda")
    parser.add_argument("--load", action="store_true", help="a PyTorch matmul loop beside the app")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--out", default=".")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--budget-s", type=float, default=0,
                        help="the whole script's time; a run that no longer fits is skipped")
    parser.add_argument("--case-overhead-s", type=float, default=12.0,
                        help="a run's time beyond --seconds (start-up, plans, exit), for the budget")
    args = parser.parse_args()
    # A `timeout` around the script: leave through the clean-up below, not by dying.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    end = time.monotonic() + args.budget_s if args.budget_s > 0 else None
    os.makedirs(args.out, exist_ok=True)
    load = server = None
    rows = []
    try:
        if args.load and not args.dry_run:
            load = subprocess.Popen([args.python, "-c", LOAD_SCRIPT], stdout=subprocess.PIPE,
                                    text=True)
            print("load:", load.stdout.readline().strip(), flush=True)
        server, url = start_fake_server(args.python, args.keyframe_seconds)
        with tempfile.TemporaryDirectory() as work:
            for spec in args.models.split(","):
                name, _, weights = spec.partition("=")
                for size in map(int, args.sizes.split(",")):
                    if end is not None and \
                            time.monotonic() + args.seconds + args.case_overhead_s > end:
                        print(f"E2E_SKIPPED model={name} size={size}: not enough of --budget-s "
                              f"left", flush=True)
                        continue
                    fields = run_case(args, name, weights, size, url, work)
                    rows.append(fields)
                    print("E2E " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)
    finally:
        if load:  # first: it must not run on into the steps after this one
            stop_load(load)
        if server:
            stop_process(server, 10)
    bad = [r for r in rows
           if r["exit"] != 0 or r["shown_fps"] == "?" or r["backend"] != args.backend]
    for r in bad:
        print(f"E2E_FAILED model={r['model']} size={r['size']}: exit {r['exit']}, backend "
              f"{r['backend']} (wanted {args.backend}); see e2e-{r['model']}-{r['size']}.log",
              flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
