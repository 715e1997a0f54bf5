"""A windowed dreamwindow run on an Xvfb of its own with keys typed into its window through XTest
(xdotool): shared by the kiosk and calibration binary tests.

Typed keys go to the window that has the keyboard focus. On the display that `ctest -j` shares
between tests, another test's program can map a window and take the focus at any moment, and the
keys go there; so every session starts its own X server."""
import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time


def skip_without_xdotool():
    """Exit 77 (skipped) without xdotool or Xvfb, unless CI=true (then it is a failure)."""
    why = None
    if shutil.which("xdotool") is None:
        why = "xdotool is not installed (scripts/setup.sh installs it)"
    elif shutil.which("Xvfb") is None:
        why = "Xvfb is not installed (scripts/setup.sh installs it)"
    if why:
        print(f"skipped: {why}")
        sys.exit(1 if os.environ.get("CI") == "true" else 77)


class PrivateDisplay:
    """An Xvfb server for one session: `display` is its name (":N") once it accepts clients."""

    def __init__(self, deadline_s=30):
        read_end, write_end = os.pipe()
        self._proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x720x24", "-nolisten",
             "tcp"], pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(write_end)
        number = b""
        deadline = time.monotonic() + deadline_s
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while not number.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([pipe], [], [], left)[0]:
                    break
                chunk = pipe.read(16)
                if not chunk:
                    break  # Xvfb ended
                number += chunk
        if not number.strip().isdigit():
            self.close()
            raise RuntimeError(f"Xvfb did not start: {self._proc.stderr.read().decode()[-400:]}")
        self.display = ":" + number.decode().strip()

    def close(self):
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def xdotool(display, *args, timeout=30):
    env = dict(os.environ, DISPLAY=display)
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def find_window(proc, display, deadline_s=120):
    """The program's visible window id, once it is mapped (None if the program ended first)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and proc.poll() is None:
        ids = xdotool(display, "search", "--onlyvisible", "--pid", str(proc.pid)).stdout.split()
        if ids:
            return ids[0]
        time.sleep(0.2)
    return None


class _StderrReader:
    """Collects a process's stderr on a thread, so a test can wait for a log line while the
    program runs."""

    def __init__(self, stream):
        self._lines = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()

    def wait_for(self, text, deadline_s=60):
        """True once `text` appears in a line of stderr (False at the deadline)."""
        with self._cond:
            return self._cond.wait_for(lambda: any(text in l for l in self._lines), deadline_s)

    def text(self):
        self._thread.join(timeout=30)
        with self._cond:
            return "".join(self._lines)


def session(exe, source_dir, d, args, keys):
    """Starts a 320x240 windowed run with `args` on an X server of its own, types `keys` into its
    window and waits for it to end; returns (exit code or "still running" or None when no window
    came up, stderr).
    A key given as ("wait", text) types nothing: the next key waits (deadline 60 s) until the
    program has logged `text`, as a person waits to see a key's effect before the next."""
    with PrivateDisplay() as x:
        return _session_on(x.display, exe, source_dir, d, args, keys)


def wait_presenting(proc, status_path, deadline_s=120):
    """True once the program's status file says its render loop has presented a frame: from then
    on its window handles input (keys typed while it starts up wait in the X server's queue, but
    a test should not depend on that)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with open(status_path) as f:
                if json.load(f)["frame"]["presented"] > 0:
                    return True
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not written yet (it is replaced atomically, never half-written)
        time.sleep(0.1)
    return False


def _session_on(display, exe, source_dir, d, args, keys):
    env = dict(os.environ)
    env["DISPLAY"] = display
    env.pop("XAUTHORITY", None)  # the private server takes local clients without a cookie
    env["XDG_CONFIG_HOME"] = os.path.join(d, "config")
    env.pop("SDL_VIDEODRIVER", None)
    cmd = [exe, "--display.mode", "windowed", "--display.width", "320", "--display.height", "240",
           "--source.kind", "folder", "--source.folder", os.path.join(source_dir, "assets", "seeds"),
           "--vae.decoder", "none", "--cache.dir", os.path.join(d, "cache"),
           "--status.path", os.path.join(d, "s.json"), "--status.interval_s", "0.2",
           "--comfy.width", "256",
           "--comfy.height", "256", "--display.overlay", "hidden"] + args
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    err = _StderrReader(proc.stderr)
    try:
        window = find_window(proc, display)
        if window is None:
            proc.kill()
            proc.wait()
            return None, err.text()
        # No window manager under Xvfb: give the window the keyboard focus directly.
        typed = []  # what xdotool said, for the report when the program did not do as typed
        def run(*args):
            r = xdotool(display, *args)
            typed.append(f"{time.monotonic():.3f} xdotool {' '.join(args)}: exit {r.returncode}"
                         f" {r.stdout.strip()} {r.stderr.strip()}")
            return r
        if not wait_presenting(proc, os.path.join(d, "s.json")):
            typed.append(f"{time.monotonic():.3f} no frame presented")
        for k in keys:
            if isinstance(k, tuple):
                if not err.wait_for(k[1]):
                    typed.append(f"{time.monotonic():.3f} no '{k[1]}' in the log")
                    break  # reported below: the program is still running, or its stderr says why
            else:
                # The focus again before every key: nothing may have taken it meanwhile.
                run("windowfocus", "--sync", window)
                run("key", "--clearmodifiers", k)
        run("getwindowfocus")
        report = f"window {window}\n" + "\n".join(typed) + "\n"
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=30)
            return "still running", report + err.text()
        return proc.returncode, err.text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
