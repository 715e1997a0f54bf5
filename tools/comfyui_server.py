#!/usr/bin/env python3
"""Starts the real ComfyUI (../shared/comfyui, unmodified, read-only) for tests and benchmarks.

Everything ComfyUI writes goes to a scratch base directory (models/, input/, output/, temp/,
user/, custom_nodes/); its database is in memory; bytecode goes to the dreamwindow cache. The
venv comes from tools/comfyui_env.sh. Used as a library by tests/comfy/real/ and bench/comfy,
or by hand:

    tools/comfyui_server.py [--port N] [--checkpoint FILE] [--nodes DIR]

prints "ready URL" and serves until Ctrl-C.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TOOLS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TOOLS)
DEFAULT_COMFY_DIR = os.path.normpath(os.path.join(REPO, "..", "shared", "comfyui"))


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dreamwindow")


def comfy_dir():
    """Where the ComfyUI source is: $DW_COMFYUI_DIR, else ../shared/comfyui beside the checkout."""
    return os.environ.get("DW_COMFYUI_DIR") or DEFAULT_COMFY_DIR


def venv_python(build=False):
    """The venv's python. With build=False only a finished cached venv counts (None otherwise)."""
    args = [os.path.join(TOOLS, "comfyui_env.sh")] + ([] if build else ["--check"])
    r = subprocess.run(args, stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return None
    return os.path.join(r.stdout.strip().splitlines()[-1], "bin", "python")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ComfyServer:
    """One ComfyUI process on 127.0.0.1. start() waits until /system_stats answers; kill9() and
    restart() keep the port, base directory and models, as a crashed and restarted server would."""

    def __init__(self, python, comfy=None, checkpoints=(), node_files=(), port=None, log=None):
        self.python = python
        self.comfy = comfy or comfy_dir()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base = tempfile.mkdtemp(prefix="dw-comfyui-")
        self.log_path = log or os.path.join(self.base, "comfyui.log")
        self.proc = None
        for sub in ("input", "output", "temp", "user", "custom_nodes", "models/checkpoints"):
            os.makedirs(os.path.join(self.base, sub), exist_ok=True)
        ws_node = os.path.join(self.comfy, "custom_nodes", "websocket_image_save.py")
        for f in [ws_node] + list(node_files):
            os.symlink(os.path.abspath(f), os.path.join(self.base, "custom_nodes", os.path.basename(f)))
        for c in checkpoints:
            os.symlink(os.path.abspath(c), os.path.join(self.base, "models", "checkpoints",
                                                        os.path.basename(c)))

    def start(self, timeout=300):
        env = dict(os.environ, PYTHONPYCACHEPREFIX=os.path.join(cache_dir(), "pycache"),
                   PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", DO_NOT_TRACK="1")
        args = [self.python, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(self.port),
                "--base-directory", self.base, "--database-url", "sqlite:///:memory:",
                "--disable-auto-launch", "--disable-api-nodes"]
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, cwd=self.comfy, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        log.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.proc.returncode} before it was "
                                   f"ready:\n{self.log_tail()}")
            try:
                self.get("/system_stats", timeout=2)
                return
            except (OSError, ValueError):
                time.sleep(0.2)
        raise RuntimeError(f"ComfyUI not ready after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, chars=3000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return "(no log)"

    def get(self, path, timeout=10):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return json.load(r)

    def post(self, path, body, timeout=10):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = r.read()
            return json.loads(data) if data else None

    def kill9(self):
        """SIGKILL, as a crash: no goodbye to any client, the queue lost."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()

    def restart(self, timeout=300):
        self.kill9()
        return self.start(timeout)

    def files(self, kind):
        return sorted(p for p in glob.glob(os.path.join(self.base, kind, "**"), recursive=True)
                      if os.path.isfile(p))

    def close(self, keep=False):
        self.stop()
        if not keep:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--checkpoint", action="append", default=[], help="checkpoint file to offer")
    ap.add_argument("--nodes", action="append", default=[], help="extra custom node .py files")
    a = ap.parse_args()
    if not os.path.isdir(comfy_dir()):
        sys.exit(f"comfyui_server: no ComfyUI source at {comfy_dir()}")
    python = venv_python(build=True)
    if not python:
        sys.exit("comfyui_server: the ComfyUI venv could not be built (tools/comfyui_env.sh)")
    with ComfyServer(python, checkpoints=a.checkpoint, node_files=a.nodes,
                     port=a.port or None) as s:
        s.start()
        print("ready", s.url, "base", s.base, flush=True)
        try:
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            s.proc.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
