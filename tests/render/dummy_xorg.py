"""A real X server whose displays change while the binary runs: Xorg with the dummy video driver
(display 0, DUMMY0, 1024x768), whose further outputs xrandr connects at run time. The server then
reports each new output the way it reports a projector's hot-plug, and SDL sees a display
connected. Shared by the display hot-plug tests. Needs root (Xorg with a config file of its own).

    skip_unless_available()                 # exits 77 (SKIPPED), or 1 in CI with a tool missing
    with DummyXorg(tmpdir) as x:            # x.env: DISPLAY and the rest for the binary
        app = x.start_app(exe, "--display.index", "1")   # killed at the end if still running
        x.connect("DUMMY1", right_of="DUMMY0")   # 1280x720
"""
import json
import os
import shutil
import subprocess
import sys
import time

DUMMY = "/usr/lib/xorg/modules/drivers/dummy_drv.so"

XORG_CONF = """
Section "Device"
  Identifier "dummy"
  Driver "dummy"
  VideoRam 256000
EndSection
Section "Monitor"
  Identifier "monitor"
  HorizSync 5.0-1000.0
  VertRefresh 5.0-200.0
EndSection
Section "Screen"
  Identifier "screen"
  Device "dummy"
  Monitor "monitor"
  DefaultDepth 24
  SubSection "Display"
    Depth 24
    Modes "1024x768"
  EndSubSection
EndSection
"""

# A 1280x720 mode for the outputs connected at run time.
P720 = ["74.25", "1280", "1390", "1430", "1650", "720", "725", "730", "750", "+hsync", "+vsync"]


def skip_unless_available():
    missing = [t for t in ("Xorg", "xrandr", "xdotool") if shutil.which(t) is None]
    if not os.path.exists(DUMMY):
        missing.append(DUMMY)
    if not missing and os.geteuid() == 0:
        return
    why = (f"missing {', '.join(missing)} (scripts/setup.sh installs them)" if missing
           else "Xorg with its own config file needs root")
    if os.environ.get("CI") == "true" and missing:
        print("FAIL " + why)
        sys.exit(1)
    print("SKIPPED: " + why)
    sys.exit(77)


def wait_for(predicate, seconds):
    """The predicate's first true value within `seconds`, polled every 0.1 s; else None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return None


def frame(status_path, key="frame"):
    """A section of status.json (the display's, by default), or None while there is none."""
    try:
        with open(status_path) as f:
            return json.load(f)[key]
    except (OSError, ValueError, KeyError):
        return None


class DummyXorg:
    def __init__(self, directory):
        self.dir = directory
        self.display = None
        self.env = None
        self.server = None
        self.mode_added = False
        self.app = None
        self.status = os.path.join(directory, "status.json")
        self.app_log = os.path.join(directory, "app.log")

    def __enter__(self):
        self.display = next((n for n in range(60, 200)
                             if not os.path.exists(f"/tmp/.X11-unix/X{n}")
                             and not os.path.exists(f"/tmp/.X{n}-lock")), None)
        if self.display is None:
            raise RuntimeError("no free X display number in :60..:199")
        conf = os.path.join(self.dir, "xorg.conf")
        with open(conf, "w") as f:
            f.write(XORG_CONF)
        os.makedirs(os.path.join(self.dir, "xorg.conf.d"), exist_ok=True)
        self.log = os.path.join(self.dir, "xorg.log")
        self.server = subprocess.Popen(
            ["Xorg", f":{self.display}", "-config", conf, "-configdir",
             os.path.join(self.dir, "xorg.conf.d"), "-noreset", "-nolisten", "tcp",
             "-logfile", self.log], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.env = dict(os.environ, DISPLAY=f":{self.display}", SDL_VIDEODRIVER="x11",
                        XDG_CONFIG_HOME=os.path.join(self.dir, "config"))
        return self

    def __exit__(self, *exc):
        if self.app is not None and self.app.poll() is None:
            self.app.kill()
            self.app.wait(timeout=10)
        self.server.terminate()
        try:
            self.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.server.kill()
        return False

    def up(self, seconds=30):
        """True once the server answers."""
        return wait_for(lambda: self.xrandr().returncode == 0, seconds) is not None

    def start_app(self, exe, *args):
        """Starts the binary on this server with `args`, writing status.json every second to
        self.status and its log to self.app_log, its cache in the directory, no start-up buffer."""
        with open(self.app_log, "w") as log:
            self.app = subprocess.Popen(
                [exe, *args, "--status.path", self.status, "--status.interval_s", "1",
                 "--cache.dir", os.path.join(self.dir, "cache"), "--playback.min_buffer_s", "0"],
                stdout=log, stderr=subprocess.STDOUT, env=self.env)
        return self.app

    def app_log_text(self):
        with open(self.app_log) as f:
            return f.read()

    def log_tail(self):
        return open(self.log).read()[-800:] if os.path.exists(self.log) else "no log"

    def xrandr(self, *args):
        return subprocess.run(["xrandr", *args], env=self.env, capture_output=True, text=True,
                              timeout=20)

    def connect(self, output, right_of):
        """Connects `output` at 1280x720 right of `right_of`, and probes (what a hot-plug makes
        the server do); the xrandr result of the connection."""
        if not self.mode_added:
            self.xrandr("--newmode", "p720", *P720)
            self.mode_added = True
        self.xrandr("--addmode", output, "p720")
        r = self.xrandr("--output", output, "--mode", "p720", "--right-of", right_of)
        self.xrandr()
        return r

    def xdotool(self, *args):
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True,
                              timeout=10)

    def windows(self, title, visible_only=False):
        """The ids of the windows titled exactly `title`."""
        return self.xdotool("search", *(["--onlyvisible"] if visible_only else []),
                            "--name", f"^{title}$").stdout.split()

    def geometry(self, title="dreamwindow", visible_only=False):
        """(x, y, w, h) of the window titled `title`, or None."""
        ids = self.windows(title, visible_only)
        if not ids:
            return None
        r = self.xdotool("getwindowgeometry", "--shell", ids[0])
        g = dict(line.split("=", 1) for line in r.stdout.split() if "=" in line)
        try:
            return int(g["X"]), int(g["Y"]), int(g["WIDTH"]), int(g["HEIGHT"])
        except (KeyError, ValueError):
            return None

    def grab(self, bbox):
        """The screen in `bbox` (x0, y0, x1, y1) as grey levels."""
        import numpy as np
        from PIL import ImageGrab
        return np.asarray(ImageGrab.grab(bbox=bbox, xdisplay=f":{self.display}").convert("L"),
                          dtype=np.float64)
