#!/usr/bin/env python3
"""Calibration through the real binary in a real (Xvfb) window, keys typed through XTest
(xdotool): --calibrate starts it, an arrow key nudges corner 1, quitting saves the corner into
the config file's [[output]] table (which a second run reads back); Esc while calibrating leaves
calibration instead of quitting. Exit 77 (skipped) when xdotool or Xvfb is missing, unless
CI=true."""
import os
import re
import subprocess
import sys
import tempfile

from xdo_session import session, skip_without_xdotool

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]
source_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


skip_without_xdotool()
with tempfile.TemporaryDirectory() as d:
    config = os.path.join(d, "installation.toml")
    with open(config, "w") as f:
        f.write("[display]\nbrightness = 0.9\n")
    # Right arrow x3 on corner 1 (4 window pixels each), then Esc (leaves calibration, saving),
    # then Esc again once calibration is off (now it quits, outside kiosk mode).
    code, err = session(exe, source_dir, d, ["--config", config, "--calibrate", "grid"],
                        ["1", "Right", "Right", "Right", "Escape", ("wait", "calibration off"),
                         "Escape"])
    text = open(config).read() if os.path.exists(config) else ""
    check("Esc leaves calibration (saving), a second Esc quits (exit 0)",
          code == 0 and "calibration off" in err and "quit by Esc" in err and "saved" in err,
          f"exit {code}, stderr {err[-3000:]}")
    r = subprocess.run([exe, "--print-config", "--config", config], capture_output=True,
                       text=True, timeout=60)
    m = re.search(r"corners = \[\[([0-9.e-]+), ([0-9.e-]+)\]", r.stdout)
    x = float(m.group(1)) if m else -1
    check("the nudged corner is saved into an [[output]] table and read back",
          m is not None and abs(x - 12 / 320) < 1e-6 and "brightness = 0.9" in r.stdout,
          f"corner x {x}, file {text!r}, print-config {r.stdout[-600:]!r}")

    # Quitting while calibrating (the kiosk chord) saves too.
    code, err = session(exe, source_dir, d,
                        ["--config", config, "--calibrate", "grid", "--kiosk.enabled", "true"],
                        ["2", "Left", "ctrl+alt+q"])
    r = subprocess.run([exe, "--print-config", "--config", config], capture_output=True,
                       text=True, timeout=60)
    m = re.search(r"corners = \[\[[^]]*\], \[([0-9.e-]+), ([0-9.e-]+)\]", r.stdout)
    x = float(m.group(1)) if m else -1
    check("quitting with Ctrl+Alt+Q while calibrating saves the moved corner",
          code == 0 and m is not None and abs(x - (1 - 4 / 320)) < 1e-6,
          f"exit {code}, corner 2 x {x}, stderr {err[-600:]}")

finish()
