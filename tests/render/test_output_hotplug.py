#!/usr/bin/env python3
"""Two projectors as [[output]]s, the second switched on after the computer. The binary runs with
output 1 full-screen on display 0 and output 2 full-screen on display 1 of a real X server that
has only display 0 at the start (tests/render/dummy_xorg.py). It starts anyway: output 1 fills
display 0, output 2's window waits hidden (on display 0 it would cover output 1). Once display 1
is there, output 2's window shows on it and fills it with its picture, its own thread presents
frames there, and output 1 stays on display 0. status.json says whether every window is on its
display. Then the other way round: output 1's projector (display 1) is the late one; the binary
starts with output 1's window hidden (it would cover output 2 on display 0; it used to refuse to
start) and output 2 showing, and output 1 shows once display 1 is there. Needs root; skipped
without the dummy driver outside CI."""
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



def outputs_on(first, second):
    """Two borderless [[output]]s, on display `first` and display `second`."""
    return "".join(f'[[output]]\ndisplay = {n}\nmode = "borderless"\n\n' for n in (first, second))


def start(x, d, config_text, what):
    """Xorg up and the binary started on `config_text`; the app, or None (checked and reported)."""
    if not check(f"Xorg with the dummy driver starts ({what})", x.up(), x.log_tail()):
        return None
    config = os.path.join(d, "outputs.toml")
    with open(config, "w") as f:
        f.write(config_text)
    return x.start_app(exe, "--config", config)


with tempfile.TemporaryDirectory() as d, DummyXorg(d) as x:
    app = start(x, d, outputs_on(0, 1), "output 2 late")
    if app is None:
        finish()
    status = x.status
    before = wait_for(lambda: (f := frame(status)) and f["presented"] > 30 and f, 90)
    check("with output 2's display not there it starts and presents frames", before,
          f"exit {app.poll()}: " + x.app_log_text()[-800:])
    if not before:
        finish()
    check("output 1 fills display 0", x.geometry() == (0, 0, 1024, 768), str(x.geometry()))
    check("output 2's window is there but hidden",
          x.windows("dreamwindow output 2") and
          not x.windows("dreamwindow output 2", visible_only=True),
          f"all {x.windows('dreamwindow output 2')}, "
          f"visible {x.windows('dreamwindow output 2', visible_only=True)}")
    outs = frame(status, "outputs") or []
    check("status.json: a window is not on its display (output 2's), none moved",
          not before["display_on_target"] and before["display_moves"] == 0 and
          [o["on_display"] for o in outs] == [True, False], f"{before} {outs}")
    shot = x.grab((0, 0, 1024, 768))
    check("display 0 shows output 1's picture (not black, not flat)",
          shot.mean() > 20 and shot.std() > 10, f"mean {shot.mean():.1f}, std {shot.std():.1f}")

    # The second projector is switched on.
    r = x.connect("DUMMY1", right_of="DUMMY0")
    check("xrandr connects display 1", r.returncode == 0, r.stderr)
    placed = wait_for(lambda: x.geometry("dreamwindow output 2", visible_only=True) ==
                      (1024, 0, 1280, 720), 20)
    check("output 2's window shows and fills display 1 (1280x720 at 1024, 0)", placed,
          str(x.geometry("dreamwindow output 2")))
    check("output 1 stays on display 0", x.geometry() == (0, 0, 1024, 768), str(x.geometry()))
    after = wait_for(lambda: (f := frame(status)) and f["display_on_target"] and f, 10)
    check("status.json: every window on its display, one move",
          after and after["display_moves"] == 1 and
          [o["on_display"] for o in frame(status, "outputs")] == [True, True],
          f"{frame(status)} {frame(status, 'outputs')}")

    # Output 2 draws on its own thread: frames presented there keep rising, and display 1
    # shows the picture.
    outs = frame(status, "outputs") or []
    presented = outs[1]["presented"] if len(outs) > 1 else 0
    more = wait_for(lambda: (o := frame(status, "outputs")) and len(o) > 1 and
                    o[1]["presented"] > presented + 30 and o, 30)
    check("output 2 keeps presenting frames on display 1", more, str(frame(status, "outputs")))
    shot = x.grab((1024, 0, 2304, 720))
    check("display 1 shows output 2's picture (not black, not flat)",
          shot.mean() > 20 and shot.std() > 10, f"mean {shot.mean():.1f}, std {shot.std():.1f}")
    text = x.app_log_text()
    check("the log says output 2 waited hidden and when it went onto display 1",
          "output 2: display = 1 but this machine has 1 display" in text and
          "stays hidden" in text and "display 'DUMMY1' is there" in text, text[-1200:])
    app.send_signal(signal.SIGTERM)
    check("SIGTERM: exit 0", app.wait(timeout=30) == 0, f"exit {app.returncode}")

with tempfile.TemporaryDirectory() as d, DummyXorg(d) as x:
    app = start(x, d, outputs_on(1, 0), "output 1 late")
    if app is None:
        finish()
    status = x.status
    outs = wait_for(lambda: (o := frame(status, "outputs")) and len(o) > 1 and
                    o[1]["presented"] > 30 and o, 90)
    check("with output 1's display not there it starts and output 2 presents frames", outs,
          f"exit {app.poll()}: " + x.app_log_text()[-800:])
    if not outs:
        finish()
    check("output 1's window is there but hidden",
          x.windows("dreamwindow") and not x.windows("dreamwindow", visible_only=True),
          f"all {x.windows('dreamwindow')}, visible {x.windows('dreamwindow', visible_only=True)}")
    check("output 2 fills display 0",
          x.geometry("dreamwindow output 2", visible_only=True) == (0, 0, 1024, 768),
          str(x.geometry("dreamwindow output 2")))
    shot = x.grab((0, 0, 1024, 768))
    check("display 0 shows output 2's picture (not black, not flat)",
          shot.mean() > 20 and shot.std() > 10, f"mean {shot.mean():.1f}, std {shot.std():.1f}")
    r = x.connect("DUMMY1", right_of="DUMMY0")
    check("xrandr connects display 1", r.returncode == 0, r.stderr)
    placed = wait_for(lambda: x.geometry("dreamwindow", visible_only=True) ==
                      (1024, 0, 1280, 720), 20)
    check("output 1's window shows and fills display 1", placed, str(x.geometry("dreamwindow")))
    check("output 2 stays on display 0",
          x.geometry("dreamwindow output 2", visible_only=True) == (0, 0, 1024, 768),
          str(x.geometry("dreamwindow output 2")))
    # Shown again, the window gets its picture with the loop's next frames.
    shown = wait_for(lambda: bool((g := x.grab((1024, 0, 2304, 720))).mean() > 20 and
                                  g.std() > 10), 20)
    shot = x.grab((1024, 0, 2304, 720))
    check("display 1 shows output 1's picture (not black, not flat)", shown,
          f"mean {shot.mean():.1f}, std {shot.std():.1f}")
    app.send_signal(signal.SIGTERM)
    check("SIGTERM: exit 0 (output 1 late)", app.wait(timeout=30) == 0, f"exit {app.returncode}")
finish()
