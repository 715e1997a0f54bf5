"""Shared parts of the real-ComfyUI tests (tests/comfy/real): finding ComfyUI and its venv,
model-free workflows, running dreamwindow against a server and watching its status.json.

Skip rule: exit 77 (SKIP) only when the ComfyUI source (../shared/comfyui) is absent and CI is
not set. With CI=true, or with the source present, a missing venv or checkpoint is a failure
with a message saying which tool makes it.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools"))
import comfyui_server  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "tests", "support"))
from checks import Checks  # noqa: E402,F401 (shared with the other test scripts)

SKIP = 77
TEST_NODES = os.path.join(HERE, "custom_nodes", "dreamwindow_test_nodes.py")
SEED_IMAGE = os.path.join(REPO, "assets", "seeds", "seed_01_flow_field.png")


_apps = []  # running dreamwindow processes: stopped on any failure, never left behind


def fail(msg):
    print("FAIL " + msg, flush=True)
    for app in list(_apps):
        app.stop()
    sys.exit(1)


def require_comfyui():
    """The venv's python; skips (exit 77) only where ComfyUI's source is absent outside CI."""
    src = comfyui_server.comfy_dir()
    if not os.path.isfile(os.path.join(src, "main.py")):
        if os.environ.get("CI", "").lower() == "true":
            fail(f"CI=true but no ComfyUI source at {src}: the realcomfy tests must run in CI")
        print(f"skipped: no ComfyUI source at {src} (set DW_COMFYUI_DIR or put ComfyUI 0.3.64 "
              "there; see ../shared/REAL_COMFYUI.md)", flush=True)
        sys.exit(SKIP)
    python = comfyui_server.venv_python(build=False)
    if not python:
        fail("the ComfyUI venv is not built: run tools/comfyui_env.sh (scripts/test.sh and the "
             "realcomfy.env fixture do)")
    return python


# ---- model-free workflows (API format, dreamwindow placeholders) ----

def image_graph(output="SaveImageWebsocket", slow_s=0.0, slow_steps=1, extra_inputs=None):
    """LoadImage -> ImageScale -> ImageInvert [-> DreamwindowSlowPass] -> output node."""
    load = {"image": "{{image}}"}
    load.update(extra_inputs or {})
    g = {
        "1": {"class_type": "LoadImage", "inputs": load},
        "2": {"class_type": "ImageScale",
              "inputs": {"image": ["1", 0], "upscale_method": "bilinear", "width": "{{width}}",
                         "height": "{{height}}", "crop": "center"}},
        "3": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
    }
    last = "3"
    if slow_s > 0:
        g["4"] = {"class_type": "DreamwindowSlowPass",
                  "inputs": {"images": ["3", 0], "seconds": slow_s, "steps": slow_steps,
                             "seed": "{{seed}}"}}
        last = "4"
    out = {"images": [last, 0]}
    if output == "SaveImage":
        out["filename_prefix"] = "dreamwindow_test"
    g["9"] = {"class_type": output, "inputs": out}
    return g


def write_graph(directory, name, graph):
    path = os.path.join(directory, name + ".json")
    with open(path, "w") as f:
        json.dump(graph, f, indent=1)
    return path


# ---- dreamwindow under test ----

_help = {}


def knows(exe, key):
    """Whether this dreamwindow has the config key (its --help lists every key)."""
    if exe not in _help:
        _help[exe] = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
    return f"--{key} " in _help[exe]


class App:
    """dreamwindow --headless against `url`, sampled through status.json (every 0.1 s) into a
    timeline of (seconds since start, status dict)."""

    def __init__(self, exe, url, workdir, args, frames=10_000_000):
        self.status_path = os.path.join(workdir, "status.json")
        self.log_path = os.path.join(workdir, "dreamwindow.log")
        env = dict(os.environ, XDG_CONFIG_HOME=workdir, XDG_STATE_HOME=workdir,
                   XDG_CACHE_HOME=os.path.join(workdir, "xdg-cache"))
        # --headless renders offscreen (SDL offscreen + EGL): no X server needed.
        cmd = [exe,
            "--headless", "--frames", str(frames), "--comfy.urls", url,
            "--comfy.width", "128", "--comfy.height", "128",
            "--cache.dir", os.path.join(workdir, "cache"), "--status.path", self.status_path,
            "--status.interval_s", "0.1",
            # real time, as on a screen: the content clock must not outrun the wall clock
            "--display.headless_paced", "true", "--display.headless_fps", "30"] + args
        self.log = open(self.log_path, "w")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.timeline = []
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        _apps.append(self)

    def _sample(self):
        while not self._stop.is_set():
            s = self.read_status()
            if s:
                self.timeline.append((time.monotonic() - self.t0, s))
            time.sleep(0.05)

    def read_status(self):
        try:
            with open(self.status_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def latest(self):
        return self.timeline[-1][1] if self.timeline else (self.read_status() or {})

    def wait_for(self, what, predicate, timeout):
        """Waits (generously) until predicate(status) holds; fails the test naming `what`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.latest()
            if s and predicate(s):
                return s
            if self.proc.poll() is not None:
                fail(f"{what}: dreamwindow exited with {self.proc.returncode}\n{self.log_tail()}")
            time.sleep(0.1)
        fail(f"{what}: not within {timeout} s; status: {json.dumps(self.latest().get('generation'))}"
             f"\n{self.log_tail()}")

    def stop(self):
        if self in _apps:
            _apps.remove(self)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._stop.set()
        self._sampler.join()
        self.log.close()
        return self.proc.returncode

    def log_tail(self, chars=2500):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()[-chars:]

    def longest_standstill(self, since):
        """Longest span after `since` (s) in which the content frame on screen did not change."""
        last_change, last_seq, longest = None, None, 0.0
        for t, s in self.timeline:
            if t < since:
                continue
            seq = s.get("frame", {}).get("sequence")
            if seq != last_seq or last_change is None:
                last_change, last_seq = t, seq
            longest = max(longest, t - last_change)
        return longest


def server_keyframes(status, url=None):
    servers = status.get("generation", {}).get("servers", [])
    return sum(sv.get("keyframes", 0) for sv in servers if url is None or sv.get("url") == url)


# ---- another ComfyUI client, as a second user of the same server ----

def queue_other_client(server, graph):
    """Uploads the seed image and queues `graph` (placeholders filled) as another client would."""
    boundary = uuid.uuid4().hex
    with open(SEED_IMAGE, "rb") as f:
        png = f.read()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"other_client.png\"\r\nContent-Type: image/png\r\n\r\n").encode() + png + \
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\ntrue" \
        f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(server.url + "/upload/image", data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        name = json.load(r)["name"]
    text = json.dumps(graph).replace("{{image}}", name).replace('"{{width}}"', "128") \
        .replace('"{{height}}"', "128").replace('"{{seed}}"', "12345")
    pid = str(uuid.uuid4())
    server.post("/prompt", {"prompt": json.loads(text), "client_id": "other-user", "prompt_id": pid})
    return pid


def history(server, pid=None):
    return server.get("/history" + (f"/{pid}" if pid else ""), timeout=30)


def interrupted_prompts(server, ignore=()):
    """Prompts the server ran and did not finish with success (interrupted or failed), as
    (id, status, events); ids in `ignore` left out."""
    bad = []
    for pid, h in history(server).items():
        if pid in ignore:
            continue
        st = h.get("status", {})
        events = [m[0] for m in st.get("messages", [])]
        if st.get("status_str") != "success" or "execution_interrupted" in events:
            bad.append((pid, st.get("status_str"), events))
    return bad


def scratch():
    return tempfile.TemporaryDirectory(prefix="dw-realcomfy-", ignore_cleanup_errors=True)
