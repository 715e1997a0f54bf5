#!/usr/bin/env python3
"""OSC and the web remote bound to one address of the machine, which the machine then loses (a new
DHCP lease, a cable moved) and later gets back, against the real binary in a network namespace of
its own (`unshare -n`, root only: skipped with 77 elsewhere). While the address is gone, status
says each is unreachable and why, not "listening"; once it is back, both answer again without a
restart."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "control"))
from dw_app import App, Checks  # noqa: E402

SKIP = 77
ADDRESS = "10.77.0.1"  # a private address no other test uses, on this namespace's loopback
OSC_PORT, WEB_PORT = 19000, 18420

if os.environ.get("DW_IN_NETNS") != "1":
    # A namespace of our own: the machine's real interfaces are never touched.
    if os.geteuid() != 0:
        print("SKIPPED: needs root for a network namespace (unshare -n)")
        sys.exit(SKIP)
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"SKIPPED: unshare -n is not allowed here: {probe.stderr.strip()}")
        sys.exit(SKIP)
    env = dict(os.environ, DW_IN_NETNS="1")
    sys.exit(subprocess.run(["unshare", "-n", sys.executable] + sys.argv, env=env).returncode)

exe = sys.argv[1]
c = Checks()


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True)


def osc_get(path):
    """The reply's strings to /dreamwindow/get/<path>, or None when nothing answers in 2 s."""
    def pad(b):
        return b + b"\0" * (-len(b) % 4)
    packet = pad(f"/dreamwindow/get/{path}".encode() + b"\0") + pad(b",\0")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        try:
            s.sendto(packet, (ADDRESS, OSC_PORT))
            data, _ = s.recvfrom(65536)
        except OSError:
            return None
    return [p.decode() for p in data.split(b"\0") if p]


def web_status(token):
    request = urllib.request.Request(f"http://{ADDRESS}:{WEB_PORT}/api/status",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read())
    except OSError:
        return None


ip("link", "set", "lo", "up")
ip("addr", "add", f"{ADDRESS}/32", "dev", "lo")
with tempfile.TemporaryDirectory() as d:
    app = App(exe, d, "[playback]\ntarget_buffer_s = 3.0\n",
              ["--osc.enabled", "true", "--osc.address", ADDRESS, "--osc.port", str(OSC_PORT),
               "--remote.enabled", "true", "--remote.address", ADDRESS,
               "--remote.port", str(WEB_PORT)])
    try:
        s = app.wait_status(lambda s: s["remote"]["state"] == "listening" and
                            s["control"]["osc"] == f"udp://{ADDRESS}:{OSC_PORT}", 120)
        c.check("both listen on the address", s, app.log_text()[-2000:])
        with open(os.path.join(d, "remote_token")) as f:
            token = f.read().strip()
        c.check("OSC answers", osc_get("display/fit"))
        c.check("the remote answers", web_status(token))

        ip("addr", "del", f"{ADDRESS}/32", "dev", "lo")
        s = app.wait_status(lambda s: s["remote"]["state"].startswith("unreachable") and
                            s["control"]["osc"].startswith("unreachable"), 30)
        c.check("status says both are unreachable once the address is gone", s,
                json.dumps(app.status() or {})[:1500])
        if s:
            c.check("and names the address", ADDRESS in s["remote"]["state"] and
                    ADDRESS in s["control"]["osc"], s["remote"]["state"] + " | " +
                    s["control"]["osc"])
        c.check("the picture goes on meanwhile", app.wait_status(
            lambda t: t["frame"]["presented"] > (s or t)["frame"]["presented"] + 10, 30))

        ip("addr", "add", f"{ADDRESS}/32", "dev", "lo")
        s = app.wait_status(lambda s: s["remote"]["state"] == "listening" and
                            s["control"]["osc"] == f"udp://{ADDRESS}:{OSC_PORT}", 30)
        c.check("status says listening once the address is back", s,
                json.dumps(app.status() or {})[:1500])
        reply = osc_get("display/fit")
        c.check("OSC answers again, without a restart", reply and "ok" in reply, reply)
        c.check("the remote answers again", web_status(token))
    finally:
        c.check("exit 0", app.stop() == 0, app.log_text()[-2000:])
c.finish()
