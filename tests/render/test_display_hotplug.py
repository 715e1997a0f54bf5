#!/usr/bin/env python3
"""A projector switched on after the computer. The binary runs full-screen on display 1 of a real
X server that has only display 0 at the start (tests/render/dummy_xorg.py: Xorg with the dummy
driver, whose outputs xrandr connects at run time the way a hot-plug shows). The binary starts
anyway, with the picture on display 0 meanwhile; once display 1 is there the window goes onto it
and fills it, and the picture keeps moving throughout. Put onto display 0 by the desktop, the
window goes back onto display 1 at the next display change. status.json says where the window
is. Needs root; skipped without the dummy driver outside CI."""
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402
from dummy_xorg import DummyXorg, frame, skip_unless_available, wait_for  # noqa: E402

exe = sys.argv[1]
skip_unless_available()

with tempfile.TemporaryDirectory() as d, DummyXorg(d) as x:
    if not check("Xorg with the dummy driver starts", x.up(), x.log_tail()):
        finish()
    status = x.status
    app = x.start_app(exe, "--display.index", "1", "--display.mode", "borderless")
    before = wait_for(lambda: (f := frame(status)) and f["presented"] > 30 and f, 90)
    check("with display 1 not there it starts and presents frames", before,
          f"exit {app.poll()}: " + x.app_log_text()[-800:])
    if not before:
        finish()
    check("meanwhile the window is on display 0, and status.json says display 1 is not there",
          before["display"] == "DUMMY0" and not before["display_on_target"], str(before))
    check("the window fills display 0 meanwhile", x.geometry() == (0, 0, 1024, 768),
          str(x.geometry()))

    # The projector is switched on: an output connected at 1280x720 right of display 0.
    r = x.connect("DUMMY1", right_of="DUMMY0")
    check("xrandr connects display 1", r.returncode == 0, r.stderr)
    after = wait_for(lambda: (f := frame(status)) and f["display"] == "DUMMY1" and f, 20)
    check("the window goes onto display 1 once it is there", after, str(frame(status)))
    if after:
        check("status.json: its own display, one move",
              after["display_on_target"] and after["display_moves"] == 1, str(after))
    placed = wait_for(lambda: x.geometry() == (1024, 0, 1280, 720), 10)
    check("the window fills display 1 (1280x720 at 1024, 0)", placed, str(x.geometry()))

    # What display 1 shows: the picture, not black, not flat.
    shot = x.grab((1024, 0, 2304, 720))
    check("display 1 shows the picture (not black, not flat)",
          shot.mean() > 20 and shot.std() > 10, f"mean {shot.mean():.1f}, std {shot.std():.1f}")

    # The picture keeps moving on display 1.
    later = wait_for(lambda: (f := frame(status)) and
                     f["content_frames_shown"] > (after or before)["content_frames_shown"] + 5 and f, 60)
    check("after the move the stream goes on (content frames shown keep rising)", later,
          str(frame(status)))
    # Displaced while its display is away: the desktop puts the window onto display 0 (as a
    # window manager does when the projector goes). At the next display change (here a third
    # display connected) the window goes back onto display 1, its own by name.
    wid = x.windows("dreamwindow")[0]
    x.xdotool("windowmove", wid, "0", "0", "windowsize", wid, "1024", "768")
    moved = wait_for(lambda: x.geometry() == (0, 0, 1024, 768), 10)
    check("the desktop moves the window onto display 0", moved, str(x.geometry()))
    x.connect("DUMMY2", right_of="DUMMY1")
    back = wait_for(lambda: x.geometry() == (1024, 0, 1280, 720), 20)
    check("at the next display change it goes back onto display 1", back, str(x.geometry()))
    again = wait_for(lambda: (f := frame(status)) and f["display_moves"] == 2 and f, 10)
    check("status.json: on display 1, two moves", again and again["display"] == "DUMMY1",
          str(frame(status)))
    text = x.app_log_text()
    check("the log says why it started on display 0 and when it moved",
          "display.index = 1 but this machine has 1 display" in text and
          "display 'DUMMY1' is there" in text, text[-1200:])
    app.send_signal(signal.SIGTERM)
    check("SIGTERM: exit 0", app.wait(timeout=30) == 0, f"exit {app.returncode}")
finish()
