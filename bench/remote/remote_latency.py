#!/usr/bin/env python3
"""Latency of the web remote's API against the real binary (headless, remote on a free port):
N keep-alive requests each of GET /api/status, /api/params, /metrics and PUT display.gamma.
Results go in docs/benchmarks.md ("Web remote"); not a test (no pass/fail on speed).

usage: remote_latency.py build/cpu/dreamwindow [N]"""
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

exe = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100

with tempfile.TemporaryDirectory() as d:
    env = dict(os.environ, XDG_CONFIG_HOME=f"{d}/c", XDG_STATE_HOME=f"{d}/s", XDG_CACHE_HOME=f"{d}/k")
    app = subprocess.Popen([exe, "--headless", "--display.width", "320", "--display.height", "180",
                            "--vae.decoder", "none", "--remote.port", "0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        port = None
        for line in app.stderr:
            m = re.search(r"remote: listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:  # 503 until the pipeline reports
            c.request("GET", "/api/status")
            r = c.getresponse()
            r.read()
            if r.status == 200:
                break
            time.sleep(0.1)
        for method, path, body in [("GET", "/api/status", None), ("GET", "/api/params", None),
                                   ("GET", "/metrics", None),
                                   ("PUT", "/api/params/display.gamma", {"value": 1.2})]:
            times, size = [], 0
            for _ in range(n):
                t = time.monotonic()
                c.request(method, path, body=json.dumps(body) if body else None,
                          headers={"Content-Type": "application/json"} if body else {})
                r = c.getresponse()
                size = len(r.read())
                times.append((time.monotonic() - t) * 1000)
            times.sort()
            print(f"{method} {path}: p50 {times[len(times) // 2]:.2f} ms, "
                  f"p99 {times[int(len(times) * 0.99) - 1]:.2f} ms, {size} bytes")
    finally:
        app.terminate()
        app.wait(timeout=60)
