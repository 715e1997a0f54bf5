#!/usr/bin/env python3
"""dreamwindow under a systemd-style notification socket (the test owns it, as systemd would):
(a) READY=1 after the first frame, STATUS= lines, WATCHDOG=1 pings at half WATCHDOG_USEC, and
    STOPPING=1 on SIGTERM with exit 0;
(b) a pipeline worker wedged on purpose (test-only DREAMWINDOW_TEST_WEDGE) stops the pings while
    the process lives, and STATUS names the wedged worker. Under systemd this is the restart."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from service_common import NotifySocket, clean_env, small_stream_args, stop  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]


def has(prefix):
    return lambda lines: any(line.startswith(prefix) for line in lines)


def start(d, sock, extra_env=None, extra_args=()):
    env = clean_env(d)
    env["NOTIFY_SOCKET"] = sock.path
    env["WATCHDOG_USEC"] = "1000000"  # pings every 0.5 s
    env.update(extra_env or {})
    return subprocess.Popen([exe] + small_stream_args(d) + list(extra_args), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# (a) the healthy run
with tempfile.TemporaryDirectory() as d:
    sock = NotifySocket(d)
    proc = start(d, sock)
    try:
        ready = sock.wait_for(has("READY=1"), within=120)
        check("READY=1 after the first frame", ready is not None,
              f"messages {sock.messages[-5:]}")
        status = sock.wait_for(has("STATUS=keyframe"), within=30)
        check("STATUS= carries a one-line summary", status is not None and any(
            "watchdog ok" in line for line in status), f"{status}")
        pings = []
        deadline = time.monotonic() + 60
        while len(pings) < 4 and time.monotonic() < deadline:
            lines = sock.receive(deadline - time.monotonic())
            if lines and "WATCHDOG=1" in lines:
                pings.append(time.monotonic())
        check("WATCHDOG=1 pings keep coming", len(pings) >= 4, f"{len(pings)} pings")
        if len(pings) >= 4:
            gaps = [b - a for a, b in zip(pings, pings[1:])]
            # Paced by WATCHDOG_USEC: about half of 1 s, never many per interval.
            check("pings are paced at about half the watchdog interval", min(gaps) >= 0.3,
                  f"gaps {gaps}")
        proc.send_signal(15)
        stopping = sock.wait_for(has("STOPPING=1"), within=60)
        check("STOPPING=1 on SIGTERM", stopping is not None, f"{sock.messages[-3:]}")
    finally:
        code, out, err = stop(proc)
        sock.close()
    check("exit 0 after SIGTERM", code == 0, f"exit {code}: {err[-1500:]}")

# (b) a wedged worker: the orchestrator blocks for good at its 40th step (about 2 s in)
with tempfile.TemporaryDirectory() as d:
    sock = NotifySocket(d)
    proc = start(d, sock, {"DREAMWINDOW_TEST_WEDGE": "orchestrator:40"},
                 ["--service.stall_s", "3", "--playback.ring_capacity", "32",
                  "--playback.target_buffer_s", "1"])
    try:
        check("wedged run: READY=1", sock.wait_for(has("READY=1"), within=120) is not None,
              f"{sock.messages[-5:]}")
        stalled = sock.wait_for(
            lambda lines: any("watchdog stalled" in line and "orchestrator" in line
                              for line in lines), within=120)
        check("STATUS says the watchdog stalled on the orchestrator", stalled is not None,
              f"{sock.messages[-5:]}")
        pinged_before = any("WATCHDOG=1" in lines for _, lines in sock.messages)
        check("pings came before the wedge", pinged_before, f"{sock.messages[:5]}")
        # From the stall on, 4 s (8 ping intervals) without one ping while the process lives.
        quiet_until = time.monotonic() + 4
        late_pings = 0
        while time.monotonic() < quiet_until:
            lines = sock.receive(max(0.05, quiet_until - time.monotonic()))
            if lines and "WATCHDOG=1" in lines:
                late_pings += 1
        check("no WATCHDOG=1 after the stall", late_pings == 0, f"{late_pings} pings")
        check("the process still runs (systemd, not the program, ends it)", proc.poll() is None,
              f"exit {proc.poll()}")
    finally:
        code, out, err = stop(proc, sig=9)
        sock.close()
    check("the log says the pings stop and why",
          "watchdog pings stop" in err and "orchestrator" in err, err[-1500:])

finish()
