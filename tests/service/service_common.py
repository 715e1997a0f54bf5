"""Helpers of the service tests: a headless dreamwindow with a small, fast offline stream, and a
Unix datagram socket that plays systemd's notification socket (what systemd-notify talks to)."""
import os
import signal
import socket
import subprocess
import time


def small_stream_args(d):
    """A small offline stream with no VAE: cheap enough for a loaded 2-core machine."""
    return ["--headless", "--frames", "100000000", "--source.kind", "offline",
            "--cache.dir", os.path.join(d, "cache"), "--status.path", os.path.join(d, "status.json"),
            "--vae.decoder", "none", "--display.width", "128", "--display.height", "96",
            "--comfy.width", "128", "--comfy.height", "96", "--playback.min_buffer_s", "0"]


def clean_env(d):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "NOTIFY_SOCKET",
                        "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "DREAMWINDOW_TEST_WEDGE")}
    env["XDG_CONFIG_HOME"] = os.path.join(d, "config")
    env["XDG_STATE_HOME"] = os.path.join(d, "state")
    env["XDG_CACHE_HOME"] = os.path.join(d, "cache-home")
    return env


class NotifySocket:
    """Receives sd_notify datagrams; each message is a list of KEY=VALUE lines."""

    def __init__(self, d):
        self.path = os.path.join(d, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []  # (time received, [lines])

    def receive(self, timeout):
        """One message, or None after `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        lines = data.decode("utf-8", "replace").split("\n")
        self.messages.append((time.monotonic(), lines))
        return lines

    def wait_for(self, predicate, within):
        """Receives until a message's lines satisfy `predicate`; that message, or None."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            lines = self.receive(max(0.05, deadline - time.monotonic()))
            if lines is not None and predicate(lines):
                return lines
        return None

    def close(self):
        self.sock.close()


def stop(proc, sig=signal.SIGTERM, within=60):
    """Stops our own process; SIGKILL if it does not end. Returns (exit code, stdout, stderr)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err
