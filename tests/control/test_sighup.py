#!/usr/bin/env python3
"""SIGHUP reloads the config file of the running binary: a live row changes at once (seen in
status.json), a restart row is reported as pending (log and status), and a broken file is a clear
error in the log that changes nothing."""
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dw_app import App, Checks  # noqa: E402

exe = sys.argv[1]
c = Checks()

with tempfile.TemporaryDirectory() as d:
    app = App(exe, d, "[playback]\ntarget_buffer_s = 3.0\n")
    s = app.wait_status(lambda s: s["buffer"]["target_seconds"] == 3.0 and s["frame"]["presented"] > 0)
    c.check("the app runs with the file's value", s is not None, app.log_text()[-1500:])

    with open(app.config_path, "w") as f:
        f.write("[playback]\ntarget_buffer_s = 5.5\nring_capacity = 128\n")
    app.proc.send_signal(signal.SIGHUP)
    s = app.wait_status(lambda s: s["buffer"]["target_seconds"] == 5.5)
    c.check("SIGHUP applies a live row (status.json shows it)", s is not None,
            app.log_text()[-1500:])
    s = app.wait_status(lambda s: "playback.ring_capacity" in s["control"]["pending_restart"])
    c.check("a restart row is pending in status", s is not None and
            s["control"]["last_reload"].startswith("ok: "), s and s["control"])
    line = app.wait_log("wait for a restart: playback.ring_capacity")
    c.check("the log names the restart row", line is not None, app.log_text()[-1500:])
    line = app.wait_log("applied playback.target_buffer_s")
    c.check("the log names the applied row", line is not None, app.log_text()[-1500:])

    with open(app.config_path, "w") as f:
        f.write("[playback]\ntarget_buffer_s = 99999\n")
    app.proc.send_signal(signal.SIGHUP)
    line = app.wait_log(lambda l: "config reload" in l and "nothing changed" in l)
    c.check("a broken file is a clear error naming the key", line is not None and
            "playback.target_buffer_s" in line, app.log_text()[-1500:])
    s = app.wait_status(lambda s: s["control"]["last_reload"].startswith("error: "))
    c.check("status shows the failed reload and the old value stays",
            s is not None and s["buffer"]["target_seconds"] == 5.5, s and s["control"])

    code = app.stop()
    c.check("SIGTERM still ends it cleanly (exit 0)", code == 0, app.log_text()[-800:])

sys.exit(c.exit_code())
