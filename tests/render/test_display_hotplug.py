#!/usr/bin/env python3
"""A projector switched on after the computer. The binary runs full-screen on display 1 of a real
X server that has only display 0 at the start: Xorg with the dummy video driver, whose outputs
xrandr connects at run time, and whose server then reports the new output the way it reports a
projector's hot-plug (SDL sees a display connected). The binary starts anyway, with the picture
on display 0 meanwhile; once display 1 is there the window goes onto it and fills it, and the
picture keeps moving throughout. Put onto display 0 by the desktop, the window goes back onto
display 1 at the next display change. status.json says where the window is. Needs root (Xorg with a
config file of its own); skipped without the dummy driver outside CI."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import ImageGrab

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]
DUMMY = "/usr/lib/xorg/modules/drivers/dummy_drv.so"
missing = [t for t in ("Xorg", "xrandr", "xdotool") if shutil.which(t) is None]
if not os.path.exists(DUMMY):
    missing.append(DUMMY)
if missing or os.geteuid() != 0:
    why = (f"missing {', '.join(missing)} (scripts/setup.sh installs them)" if missing
           else "Xorg with its own config file needs root")
    if os.environ.get("CI") == "true" and missing:
        print("FAIL " + why)
        sys.exit(1)
    print("SKIPPED: " + why)
    sys.exit(77)

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


def free_display():
    for n in range(60, 200):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return n
    raise RuntimeError("no free X display number in :60..:199")


def wait_for(what, predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return None


def xrandr(env, *args):
    return subprocess.run(["xrandr", *args], env=env, capture_output=True, text=True, timeout=20)


def geometry(env):
    """(x, y, w, h) of the dreamwindow window, or None."""
    r = subprocess.run(["xdotool", "search", "--name", "^dreamwindow$", "getwindowgeometry",
                        "--shell"], env=env, capture_output=True, text=True, timeout=10)
    g = dict(line.split("=", 1) for line in r.stdout.split() if "=" in line)
    try:
        return int(g["X"]), int(g["Y"]), int(g["WIDTH"]), int(g["HEIGHT"])
    except (KeyError, ValueError):
        return None


def frame(status_path):
    try:
        with open(status_path) as f:
            return json.load(f)["frame"]
    except (OSError, ValueError, KeyError):
        return None


with tempfile.TemporaryDirectory() as d:
    n = free_display()
    conf = os.path.join(d, "xorg.conf")
    with open(conf, "w") as f:
        f.write(XORG_CONF)
    os.makedirs(os.path.join(d, "xorg.conf.d"))
    xorg = subprocess.Popen(["Xorg", f":{n}", "-config", conf, "-configdir",
                             os.path.join(d, "xorg.conf.d"), "-noreset", "-nolisten", "tcp",
                             "-logfile", os.path.join(d, "xorg.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, DISPLAY=f":{n}", SDL_VIDEODRIVER="x11",
               XDG_CONFIG_HOME=os.path.join(d, "config"))
    app = None
    try:
        up = wait_for("Xorg", lambda: xrandr(env).returncode == 0, 30)
        if not check("Xorg with the dummy driver starts", up, open(os.path.join(d, "xorg.log")).read()[-800:]
                     if os.path.exists(os.path.join(d, "xorg.log")) else "no log"):
            finish()
        status = os.path.join(d, "status.json")
        log = open(os.path.join(d, "app.log"), "w")
        app = subprocess.Popen([exe, "--display.index", "1", "--display.mode", "borderless",
                                "--status.path", status, "--status.interval_s", "1",
                                "--cache.dir", os.path.join(d, "cache"),
                                "--playback.min_buffer_s", "0"],
                               stdout=log, stderr=subprocess.STDOUT, env=env)
        before = wait_for("frames", lambda: (f := frame(status)) and f["presented"] > 30 and f, 90)
        check("with display 1 not there it starts and presents frames", before,
              f"exit {app.poll()}: " + open(os.path.join(d, "app.log")).read()[-800:])
        if not before:
            finish()
        check("meanwhile the window is on display 0, and status.json says display 1 is not there",
              before["display"] == "DUMMY0" and not before["display_on_target"], str(before))
        check("the window fills display 0 meanwhile", geometry(env) == (0, 0, 1024, 768),
              str(geometry(env)))

        # The projector is switched on: an output connected at 1280x720 right of display 0, and
        # the server's probe of it (what a hot-plug makes the server do).
        xrandr(env, "--newmode", "p720", "74.25", "1280", "1390", "1430", "1650", "720", "725",
               "730", "750", "+hsync", "+vsync")
        xrandr(env, "--addmode", "DUMMY1", "p720")
        r = xrandr(env, "--output", "DUMMY1", "--mode", "p720", "--right-of", "DUMMY0")
        check("xrandr connects display 1", r.returncode == 0, r.stderr)
        xrandr(env)
        after = wait_for("the move", lambda: (f := frame(status)) and f["display"] == "DUMMY1" and f, 20)
        check("the window goes onto display 1 once it is there", after, str(frame(status)))
        if after:
            check("status.json: its own display, one move",
                  after["display_on_target"] and after["display_moves"] == 1, str(after))
        placed = wait_for("placed", lambda: geometry(env) == (1024, 0, 1280, 720), 10)
        check("the window fills display 1 (1280x720 at 1024, 0)", placed, str(geometry(env)))

        # What display 1 shows: the picture, not black, not flat.
        shot = np.asarray(ImageGrab.grab(bbox=(1024, 0, 2304, 720), xdisplay=f":{n}").convert("L"),
                          dtype=np.float64)
        check("display 1 shows the picture (not black, not flat)",
              shot.mean() > 20 and shot.std() > 10, f"mean {shot.mean():.1f}, std {shot.std():.1f}")

        # The picture keeps moving on display 1.
        later = wait_for("frames after", lambda: (f := frame(status)) and
                         f["content_frames_shown"] > (after or before)["content_frames_shown"] + 5 and f, 60)
        check("after the move the stream goes on (content frames shown keep rising)", later,
              str(frame(status)))
        # Displaced while its display is away: the desktop puts the window onto display 0 (as a
        # window manager does when the projector goes). At the next display change (here a third
        # display connected) the window goes back onto display 1, its own by name.
        wid = subprocess.run(["xdotool", "search", "--name", "^dreamwindow$"], env=env,
                             capture_output=True, text=True, timeout=10).stdout.split()[0]
        subprocess.run(["xdotool", "windowmove", wid, "0", "0", "windowsize", wid, "1024", "768"],
                       env=env, timeout=10)
        moved = wait_for("displaced", lambda: geometry(env) == (0, 0, 1024, 768), 10)
        check("the desktop moves the window onto display 0", moved, str(geometry(env)))
        xrandr(env, "--addmode", "DUMMY2", "p720")
        xrandr(env, "--output", "DUMMY2", "--mode", "p720", "--right-of", "DUMMY1")
        xrandr(env)
        back = wait_for("back", lambda: geometry(env) == (1024, 0, 1280, 720), 20)
        check("at the next display change it goes back onto display 1", back, str(geometry(env)))
        again = wait_for("status", lambda: (f := frame(status)) and f["display_moves"] == 2 and f, 10)
        check("status.json: on display 1, two moves", again and again["display"] == "DUMMY1",
              str(frame(status)))
        text = open(os.path.join(d, "app.log")).read()
        check("the log says why it started on display 0 and when it moved",
              "display.index = 1 but this machine has 1 display" in text and
              "display 'DUMMY1' is there" in text, text[-1200:])
        app.send_signal(signal.SIGTERM)
        check("SIGTERM: exit 0", app.wait(timeout=30) == 0, f"exit {app.returncode}")
    finally:
        if app is not None and app.poll() is None:
            app.kill()
        xorg.terminate()
        try:
            xorg.wait(timeout=10)
        except subprocess.TimeoutExpired:
            xorg.kill()
finish()
