#!/usr/bin/env python3
"""Logs of the real binary: with JOURNAL_STREAM naming its stderr (as systemd sets it) every line
starts with a journald priority "<N>" and carries no colour codes; service.log_file gets the same
messages in a file."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from service_common import clean_env, small_stream_args  # noqa: E402

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

finish()
