#!/usr/bin/env python3
"""Logs of the real binary: with JOURNAL_STREAM naming its stderr (as systemd sets it) every line
starts with a journald priority "<N>" and carries no colour codes; service.log_file gets the same
messages in a file. A stderr that takes nothing (a pipe nobody reads, a paused terminal, a stuck
journald) stops neither the picture, nor the log file, nor the exit."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from service_common import clean_env, small_stream_args, stop  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]


with tempfile.TemporaryDirectory() as d:
    log_file = os.path.join(d, "logs", "dreamwindow.log")
    args = [exe] + small_stream_args(d) + ["--service.log_file", log_file]
    args[args.index("--frames") + 1] = "30"
    err_path = os.path.join(d, "stderr.txt")
    with open(err_path, "w") as err:
        st = os.fstat(err.fileno())
        env = clean_env(d)
        env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        r = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=err, text=True,
                           timeout=240)
    lines = [line for line in open(err_path).read().splitlines() if line.strip()]
    check("exit 0", r.returncode == 0, f"exit {r.returncode}: {lines[-10:]}")
    check("stderr has log lines", len(lines) >= 3, f"{lines}")
    check("each line starts with a journald priority",
          all(len(line) > 3 and line[0] == "<" and line[1] in "01234567" and line[2] == ">"
              for line in lines), f"{lines[:5]}")
    check("no colour codes for the journal", not any("\x1b[" in line for line in lines),
          f"{lines[:5]}")
    check("info lines are priority 6", any(line.startswith("<6>[info]") for line in lines),
          f"{lines[:5]}")
    text = open(log_file).read() if os.path.exists(log_file) else ""
    check("the log file has the run's messages",
          "keyframes: source" in text and "log: also written to" in text, text[-600:])

    # Without JOURNAL_STREAM (or with one naming another file) stderr is the console's format.
    env = clean_env(d)
    env["JOURNAL_STREAM"] = "1:2"
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=240)
    check("a JOURNAL_STREAM for another file is ignored",
          r.returncode == 0 and not r.stderr.startswith("<"), r.stderr[:300])


def full_pipe():
    """A pipe whose buffer is full and that nobody reads: the next write to it blocks."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"x" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    return r, w


def frames_presented(path):
    try:
        with open(path) as f:
            return json.load(f)["frame"]["presented"]
    except (OSError, ValueError, KeyError):
        return 0


def runs_on_with_stderr(make_stderr, what):
    """The binary with stderr from `make_stderr()` ((fd given to the app, fd kept or None)): the
    picture goes on, the log file gets lines, SIGTERM ends it."""
    with tempfile.TemporaryDirectory() as d:
        log_file = os.path.join(d, "dreamwindow.log")
        status_path = os.path.join(d, "status.json")
        args = [exe] + small_stream_args(d) + ["--service.log_file", log_file,
                                               "--status.interval_s", "0.2", "--log_level", "debug"]
        given, kept = make_stderr()
        proc = subprocess.Popen(args, env=clean_env(d), stdout=subprocess.DEVNULL, stderr=given)
        os.close(given)  # the app's copy stays; `kept` is never read meanwhile
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and \
                frames_presented(status_path) < 60:
            time.sleep(0.1)
        shown = frames_presented(status_path)
        check(f"with a stderr {what} the picture goes on", shown >= 60,
              f"{shown} frames presented, exit {proc.poll()}")
        text = open(log_file).read() if os.path.exists(log_file) else ""
        check(f"with a stderr {what} the log file still gets the lines",
              "keyframes: source" in text, text[-600:])
        began = time.monotonic()
        code, _, _ = stop(proc, within=30)
        check(f"with a stderr {what} SIGTERM still ends it, exit 0", code == 0,
              f"exit {code} after {time.monotonic() - began:.1f} s")
        if kept is not None:
            os.close(kept)


def reader_gone():
    """A pipe whose reading end is closed: a write fails with EPIPE (and SIGPIPE by default)."""
    r, w = os.pipe()
    os.close(r)
    return w, None


def nobody_reads():
    r, w = full_pipe()
    return w, r


runs_on_with_stderr(nobody_reads, "that takes nothing (full, unread)")
runs_on_with_stderr(reader_gone, "whose reader went away")

# SIGPIPE is ignored first thing, before the command line is read and before the log writers'
# threads start (under load a writer's first line, "log: also written to", could reach a stderr
# whose reader went away before the ignore was set, and end the run at once with SIGPIPE). A bad
# option shows it deterministically: its message goes to that stderr, and the exit is still the
# bad value's 2, not a death by SIGPIPE (-13).
with tempfile.TemporaryDirectory() as d:
    given, _ = reader_gone()
    r = subprocess.run([exe, "--headless", "--display.height", "1"], env=clean_env(d),
                       stdout=subprocess.DEVNULL, stderr=given, timeout=120)
    os.close(given)
    check("a bad option with a stderr whose reader went away still exits 2", r.returncode == 2,
          f"exit {r.returncode}")

finish()
