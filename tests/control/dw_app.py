"""Runs the real dreamwindow binary headless for the control tests (SIGHUP, OSC): a scratch
config, status.json written often, stderr collected on a thread, waits with deadlines."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks  # noqa: E402,F401 (shared with the other test scripts)


class App:
    def __init__(self, exe, workdir, config_text, extra_args=(), source_kind="offline"):
        self.config_path = os.path.join(workdir, "dreamwindow.toml")
        self.status_path = os.path.join(workdir, "status.json")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        env = dict(os.environ)
        env["XDG_CONFIG_HOME"] = tempfile.mkdtemp(dir=workdir)
        env["XDG_STATE_HOME"] = tempfile.mkdtemp(dir=workdir)
        defaults = {"--cache.dir": os.path.join(workdir, "cache"),
                    "--status.path": self.status_path, "--status.interval_s": "0.1",
                    "--display.width": "160", "--display.height": "96", "--comfy.width": "64",
                    "--comfy.height": "64", "--vae.decoder": "none", "--source.kind": source_kind}
        # An option given in extra_args replaces its default (the command line takes each once).
        args = [exe, "--headless", "--config", self.config_path]
        for flag, value in defaults.items():
            if flag not in extra_args:
                args += [flag, value]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.log = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self._lock:
                self.log.append(line.rstrip("\n"))

    def log_text(self):
        with self._lock:
            return "\n".join(self.log)

    def wait_log(self, pattern, timeout=120):
        """Waits until a log line contains `pattern` (a str or a predicate); returns the line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for line in self.log:
                    if (pattern(line) if callable(pattern) else pattern in line):
                        return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                return None
            time.sleep(0.05)
        return None

    def status(self):
        try:
            with open(self.status_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def wait_status(self, predicate, timeout=120):
        """Waits until status.json satisfies `predicate`; returns it (None on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.status()
            try:
                if s is not None and predicate(s):
                    return s
            except (KeyError, TypeError, IndexError):
                pass
            if self.proc.poll() is not None:
                return None
            time.sleep(0.05)
        return None

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.wait_exit(60)
        if code is None:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(5)
        return code
