"""A windowed dreamwindow run under Xvfb with keys typed into its window through XTest
(xdotool): shared by the kiosk and calibration binary tests."""
import os
import shutil
import subprocess
import sys
import time


def skip_without_xdotool():
    """Exit 77 (skipped) without xdotool or a display, unless CI=true (then it is a failure)."""
    why = None
    if shutil.which("xdotool") is None:
        why = "xdotool is not installed (scripts/setup.sh installs it)"
    elif not os.environ.get("DISPLAY"):
        why = "no X display: run under xvfb-run"
    if why:
        print(f"skipped: {why}")
        sys.exit(1 if os.environ.get("CI") == "true" else 77)


def xdotool(*args, timeout=30):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=timeout)


def find_window(proc, deadline_s=120):
    """The program's visible window id, once it is mapped (None if the program ended first)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and proc.poll() is None:
        ids = xdotool("search", "--onlyvisible", "--pid", str(proc.pid)).stdout.split()
        if ids:
            return ids[0]
        time.sleep(0.2)
    return None


def session(exe, source_dir, d, args, keys):
    """Starts a 320x240 windowed run with `args`, types `keys` into its window and waits for it
    to end; returns (exit code or "still running" or None when no window came up, stderr)."""
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = os.path.join(d, "config")
    env.pop("SDL_VIDEODRIVER", None)
    cmd = [exe, "--display.mode", "windowed", "--display.width", "320", "--display.height", "240",
           "--source.kind", "folder", "--source.folder", os.path.join(source_dir, "assets", "seeds"),
           "--vae.decoder", "none", "--cache.dir", os.path.join(d, "cache"),
           "--status.path", os.path.join(d, "s.json"), "--comfy.width", "256",
           "--comfy.height", "256", "--display.overlay", "hidden"] + args
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        window = find_window(proc)
        if window is None:
            proc.kill()
            return None, proc.communicate()[1]
        # No window manager under Xvfb: give the window the keyboard focus directly.
        xdotool("windowfocus", "--sync", window)
        for k in keys:
            xdotool("key", "--clearmodifiers", k)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
            return "still running", err
        return proc.returncode, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
