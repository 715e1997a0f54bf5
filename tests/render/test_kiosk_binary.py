#!/usr/bin/env python3
"""Kiosk mode through the real binary in a real (Xvfb) window, keys typed through XTest
(xdotool): in kiosk mode Esc does not quit and Ctrl+Alt+Q does; outside it Esc quits as before.
Exit 77 (skipped) when xdotool or Xvfb is missing, unless CI=true."""
import os
import sys
import tempfile

from xdo_session import session, skip_without_xdotool

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]
source_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


skip_without_xdotool()
with tempfile.TemporaryDirectory() as d:
    # Esc first, then the chord: Esc must be seen and ignored (events are handled in order, so a
    # quit by Esc would be logged before the chord arrives).
    code, err = session(exe, source_dir, d, ["--kiosk.enabled", "true"],
                        ["Escape", "F1", "ctrl+alt+q"])
    check("kiosk mode: Esc does not quit, Ctrl+Alt+Q does (exit 0)",
          code == 0 and "quit by Ctrl+Alt+Q" in err and "quit by Esc" not in err,
          f"exit {code}, stderr {err[-3000:]}")
    code, err = session(exe, source_dir, d, ["--kiosk.enabled", "false"], ["Escape"])
    check("outside kiosk mode Esc quits (exit 0)", code == 0 and "quit by Esc" in err,
          f"exit {code}, stderr {err[-3000:]}")

finish()
