#!/usr/bin/env python3
"""Opening hours through the real binary, headless, on the test clock (DREAMWINDOW_TEST_CLOCK=
file:PATH, the schedule's local clock; the test moves it to just before each change and lets it run
10x faster there). At closing time status says closed, the light fades to 0, generation pauses (the
keyframe counter stops while the display keeps presenting); at opening the light comes back to 1
and keyframes resume; closed again at exit, the screenshot is black. Also: malformed schedule
entries, unknown theme names and a bad test clock exit 2 with a clear message.

Every wait is for an event with a generous deadline; the only fixed interval is the one that shows
the keyframe counter standing still while closed."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]


def environment(d, clock):
    env = dict(os.environ)
    for kind in ("CONFIG", "CACHE", "STATE"):
        env[f"XDG_{kind}_HOME"] = os.path.join(d, kind.lower())
    env["DREAMWINDOW_TEST_CLOCK"] = clock
    return env


def set_clock(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(path + ".tmp", path)


def read_status(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class Run:
    def __init__(self, proc, status_path):
        self.proc, self.status_path, self.last = proc, status_path, None
        # The longest the test saw status.json go without a rewrite (uptime unchanged), in its
        # own time, and the app's uptime then: printed at the end, for a status writer held up.
        self.seen_uptime, self.seen_at, self.longest_gap = None, time.monotonic(), (0.0, 0.0)

    def note_rewrite(self, s):
        now = time.monotonic()
        if s.get("uptime_s") != self.seen_uptime:
            gap = now - self.seen_at
            if gap > self.longest_gap[0]:
                self.longest_gap = (gap, s.get("uptime_s") or 0.0)
            self.seen_uptime, self.seen_at = s.get("uptime_s"), now

    def wait_for(self, what, predicate, deadline_s, on_status=None):
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                check(what, False, f"dreamwindow exited with {self.proc.returncode}")
                return None
            s = read_status(self.status_path)
            if s is not None:
                self.last = s
                self.note_rewrite(s)
                if on_status:
                    on_status(s)
                if predicate(s):
                    check(what, True)
                    return s
            time.sleep(0.05)
        check(what, False, f"not within {deadline_s} s; last status: {self.last and self.last.get('schedule')}, "
                           f"keyframes {self.last and self.last['generation']['keyframes']}")
        return None


def keyframes(s):
    return s["generation"]["keyframes"]


def closing_and_opening(d):
    clock = os.path.join(d, "clock")
    status_path = os.path.join(d, "status.json")
    shot = os.path.join(d, "closed.png")
    config = os.path.join(d, "c.toml")
    # 2026-12-07 is a Monday: open until 18:00, closed for an hour, open 19:00-20:00. A fade of
    # 120 s on the clock is 12 s of real time at 10x.
    with open(config, "w") as f:
        f.write('[schedule]\nenabled = true\nfade_s = 120\nmon = "09:00-18:00, 19:00-20:00"\n'
                '[status]\ninterval_s = 0.1\n')
    set_clock(clock, "2026-12-07T17:00:00")
    args = [exe, "--config", config, "--headless", "--status.path", status_path,
            "--cache.dir", os.path.join(d, "cache"), "--display.width", "160",
            "--display.height", "120", "--vae.decoder", "none", "--screenshot", shot]
    proc = subprocess.Popen(args, env=environment(d, "file:" + clock), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    run = Run(proc, status_path)
    try:
        s = run.wait_for("open at 17:00 and generating",
                         lambda s: s["schedule"]["open"] and keyframes(s) >= 3, 240)
        if s is None:
            return
        check("status before closing: open, full light, closes at 18:00",
              s["schedule"]["output_light"] == 1 and s["schedule"]["next_change"] == "closes at 18:00",
              s["schedule"])

        # Closing time passes: the light fades (values between 0 and 1, never rising) to 0.
        lights = []
        set_clock(clock, "2026-12-07T17:59:58*10")
        s = run.wait_for("closed and dark after the fade",
                         lambda s: not s["schedule"]["open"] and s["schedule"]["output_light"] == 0, 180,
                         on_status=lambda s: lights.append(s["schedule"]["output_light"]))
        if s is None:
            return
        fading = [v for v in lights if 0 < v < 1]
        check("the light faded through intermediate values", len(fading) >= 2, lights[-40:])
        check("the light never rose while closing",
              all(b <= a + 1e-9 for a, b in zip(lights, lights[1:])), lights[-40:])
        check("status while closed says when it opens", s["schedule"]["next_change"] == "opens at 19:00",
              s["schedule"])

        # Generation pauses: once in-flight requests have landed, the counter stands still while
        # the display keeps presenting frames.
        # Both intervals are the app's own time (status' uptime), not the test's: a status file
        # rewritten late (once in CI it was not rewritten for 12 s) must not pass for a counter
        # standing still, nor for a display that stopped.
        settled = {"k": -1, "since": 0.0}

        def track(s):
            if keyframes(s) != settled["k"]:
                settled["k"], settled["since"] = keyframes(s), s["uptime_s"]

        s = run.wait_for("keyframes settle after closing",
                         lambda s: s["uptime_s"] - settled["since"] > 4, 120, on_status=track)
        if s is None:
            return
        k_closed, presented, up = keyframes(s), s["frame"]["presented"], s["uptime_s"]
        s = run.wait_for("still running 8 s later", lambda s: s["uptime_s"] > up + 8, 60)
        if s is None:
            return
        check("no keyframe while closed (generation paused)", keyframes(s) == k_closed,
              f"{k_closed} -> {keyframes(s)}")
        # The uptime tells a display that stopped from a status file that was no longer rewritten.
        check("the display kept presenting while closed", s["frame"]["presented"] > presented,
              f"{presented} -> {s['frame']['presented']} while uptime {up:.1f} -> {s['uptime_s']:.1f} s; "
              f"frame {s['frame']}")

        # Opening time passes: light back to 1, keyframes resume.
        set_clock(clock, "2026-12-07T18:59:58*10")
        s = run.wait_for("open again at full light",
                         lambda s: s["schedule"]["open"] and s["schedule"]["output_light"] == 1, 180)
        if s is None:
            return
        check("status after opening says when it closes", s["schedule"]["next_change"] == "closes at 20:00",
              s["schedule"])
        run.wait_for("keyframes resume after opening", lambda s: keyframes(s) >= k_closed + 2, 240)

        # Closed again at exit: the last picture is black.
        set_clock(clock, "2026-12-07T19:59:58*10")
        run.wait_for("closed and dark at 20:00",
                     lambda s: not s["schedule"]["open"] and s["schedule"]["output_light"] == 0, 180)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    gap, at = run.longest_gap
    print(f"status.json: longest time without a rewrite {gap:.2f} s (interval 0.1 s), "
          f"rewritten again at uptime {at:.1f} s")
    check("exits 0 on SIGTERM", proc.returncode == 0, err[-1500:])
    check("the schedule logged its changes", "schedule: closed" in err and "schedule: open" in err, err[-1500:])
    if check("a screenshot was written", os.path.exists(shot), err[-800:]):
        pixels = np.asarray(Image.open(shot).convert("RGB"))
        check("the screenshot at closed time is black", pixels.max() <= 2,
              f"max {pixels.max()}, mean {pixels.mean():.2f}")


def bad_input(d):
    def expect(name, env_clock, toml, *needles):
        config = os.path.join(d, "bad.toml")
        with open(config, "w") as f:
            f.write(toml)
        r = subprocess.run([exe, "--config", config, "--headless", "--frames", "1"], capture_output=True,
                           text=True, timeout=120, env=environment(d, env_clock))
        check(name, r.returncode == 2 and all(n in r.stderr for n in needles),
              f"exit {r.returncode}, stderr {r.stderr[-600:]}")

    ok_clock = "2026-12-07T12:00:00"
    expect("malformed weekday hours exit 2", ok_clock, '[schedule]\nmon = "9-18"\n',
           'schedule.mon = "9-18"', "HH:MM-HH:MM")
    expect("malformed date exception exit 2", ok_clock,
           '[schedule]\ndates = ["2026-12-24=10:00-14:00", "2026-12-32=closed"]\n',
           '"2026-12-32=closed"', "YYYY-MM-DD=HOURS")
    expect("malformed brightness point exit 2", ok_clock, '[schedule]\nbrightness = ["8:1.0"]\n',
           "schedule.brightness", '"8:1.0"', "HH:MM=FACTOR")
    expect("unknown theme in a window exit 2", ok_clock,
           '[schedule]\nenabled = true\nthemes = ["22:00-06:00=no such theme"]\n',
           "schedule.themes", "no such theme", "does not have")
    expect("malformed test clock exit 2", "tomorrow", "", "DREAMWINDOW_TEST_CLOCK", "tomorrow")


with tempfile.TemporaryDirectory() as d:
    bad_input(d)
    closing_and_opening(d)

finish()
