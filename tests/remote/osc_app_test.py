#!/usr/bin/env python3
"""OSC and the web remote against the real binary (headless): ports another program holds at start
are waited for (status and the log say why) and bound once free, the remote then answering; `oscsend` (liblo-tools) changes a parameter and runs
actions, seen in status.json; raw UDP packets from this script get /dreamwindow/reply answers
(ok, or the config file's wording for a bad value), a bundle never more bytes than it carried;
the quit action ends the program (exit 0)."""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "control"))
from dw_app import App, Checks  # noqa: E402

exe = sys.argv[1]
c = Checks()


def osc_string(s):
    b = s.encode() + b"\0"
    return b + b"\0" * (-len(b) % 4)


def osc_message(path, *args):
    tags, data = ",", b""
    for a in args:
        if isinstance(a, float):
            tags, data = tags + "f", data + struct.pack(">f", a)
        elif isinstance(a, int):
            tags, data = tags + "i", data + struct.pack(">i", a)
        else:
            tags, data = tags + "s", data + osc_string(a)
    return osc_string(path) + osc_string(tags) + data


def parse_reply(packet):
    """(path, [strings]) of a message whose arguments are all strings."""
    parts, at = [], 0
    while at < len(packet):
        end = packet.index(b"\0", at)
        parts.append(packet[at:end].decode())
        at = end + 1
        at += -at % 4
    return parts[0], parts[1], parts[2:]


def ask(sock, port, path, *args):
    sock.sendto(osc_message(path, *args), ("127.0.0.1", port))
    data, _ = sock.recvfrom(65536)
    return parse_reply(data)


def oscsend(port, *args):
    return subprocess.run(["oscsend", "localhost", str(port)] + list(args), capture_output=True,
                          text=True, timeout=30)


def osc_bundle(*messages):
    data = osc_string("#bundle") + struct.pack(">Q", 1)
    for m in messages:
        data += struct.pack(">i", len(m)) + m
    return data


def waits_then_listens(app, name, state_of, waiting, cannot, holder, listening):
    """Status and the log say why `name` waits for the port `holder` holds; once the holder lets
    it go, the log line `listening` (returned, or None)."""
    s = app.wait_status(lambda s: state_of(s) == waiting)
    c.check(f"status says {name} waits for its port, and why", s is not None, app.status())
    c.check(f"the log says why {name} cannot listen yet", app.wait_log(cannot) is not None,
            app.log_text()[-1500:])
    holder.close()
    line = app.wait_log(listening, 60)
    c.check(f"the log says when {name} listens at last", line is not None, app.log_text()[-1500:])
    return line


with tempfile.TemporaryDirectory() as d:
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # another program on the port
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    web_holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # and on the remote's port
    web_holder.bind(("127.0.0.1", 0))
    web_holder.listen(1)
    web_port = web_holder.getsockname()[1]
    app = App(exe, d, "[playback]\ntarget_buffer_s = 3.0\n",
              ["--osc.enabled", "true", "--osc.port", str(port),
               "--remote.enabled", "true", "--remote.port", str(web_port)])
    waits_then_listens(
        app, "the remote", lambda s: s["remote"]["state"],
        f"waiting to bind to remote.address = 127.0.0.1, remote.port = {web_port}: "
        "Address already in use; retrying",
        f"http: cannot listen on 127.0.0.1:{web_port}: Address already in use; retrying",
        web_holder, f"remote: listening on http://127.0.0.1:{web_port} after ")
    s = app.wait_status(lambda s: s["remote"]["state"] == "listening")
    c.check("status shows the remote listening", s is not None, app.status())
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/actions", timeout=30) as r:
        c.check("the remote answers", r.status == 200 and b"pause" in r.read(), r.status)
    line = waits_then_listens(
        app, "OSC", lambda s: s["control"]["osc"],
        f"waiting to bind to osc.address = 127.0.0.1, osc.port = {port}: "
        "Address already in use; retrying",
        f"osc: cannot listen on osc.address = 127.0.0.1, osc.port = {port}: "
        "Address already in use; retrying",
        holder, f"osc: listening on udp://127.0.0.1:{port} after ")
    if line is None:
        app.stop()
        sys.exit(1)
    s = app.wait_status(lambda s: s["control"]["osc"] == f"udp://127.0.0.1:{port}")
    c.check("status shows where OSC listens", s is not None, app.status())

    r = oscsend(port, "/dreamwindow/param/playback/target_buffer_s", "f", "4.5")
    s = app.wait_status(lambda s: s["buffer"]["target_seconds"] == 4.5)
    c.check("oscsend sets a live parameter", r.returncode == 0 and s is not None,
            f"{r.stderr} {app.log_text()[-800:]}")
    r = oscsend(port, "/dreamwindow/action/pause")
    s = app.wait_status(lambda s: s["control"]["paused"] and
                        s["control"]["pause_reasons"] == "operator")
    c.check("oscsend runs the pause action (status: paused by the operator)", s is not None,
            app.status() and app.status()["control"])

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(30)
    sock.bind(("127.0.0.1", 0))
    path, types, args = ask(sock, port, "/dreamwindow/param/playback/target_buffer_s", 99999.0)
    c.check("a bad value gets an error reply naming the key and its range",
            path == "/dreamwindow/reply" and types == ",sss" and args[0] == "error" and
            args[1] == "/dreamwindow/param/playback/target_buffer_s" and
            "playback.target_buffer_s" in args[2] and "3600" in args[2], (path, types, args))
    path, types, args = ask(sock, port, "/dreamwindow/get/playback/target_buffer_s")
    c.check("get answers the unchanged value", args == ["ok", "/dreamwindow/get/playback/target_buffer_s",
                                                        "4.5"], args)
    path, types, args = ask(sock, port, "/dreamwindow/action/resume", 1)
    c.check("resume replies ok", args[0] == "ok" and args[2] == "generation resumed", args)
    s = app.wait_status(lambda s: not s["control"]["paused"])
    c.check("status shows generation running again", s is not None, app.status())
    path, types, args = ask(sock, port, "/dreamwindow/nowhere", 1)
    c.check("an unknown address gets an error reply", args[0] == "error" and
            "unknown OSC address" in args[2], args)
    bundle = osc_bundle(*([osc_message("/a")] * 100))
    sock.sendto(bundle, ("127.0.0.1", port))
    sock.sendto(osc_message("/dreamwindow/get/playback/target_buffer_s"), ("127.0.0.1", port))
    got = 0
    while True:  # the bundle's replies come first, then the get's
        data, _ = sock.recvfrom(65536)
        path, types, args = parse_reply(data)
        if args[1] == "/dreamwindow/get/playback/target_buffer_s":
            break
        got += len(data)
    c.check(f"a bundle of {len(bundle)} bytes brings back no more ({got})", got <= len(bundle), got)
    c.check("a get after it gets its full answer", args[2] == "4.5", args)

    r = oscsend(port, "/dreamwindow/action/quit")
    code = app.wait_exit(60)
    c.check("the quit action ends the program cleanly (exit 0)", code == 0,
            f"exit {code}: {app.log_text()[-800:]}")
    if code is None:
        app.stop()

sys.exit(c.exit_code())
