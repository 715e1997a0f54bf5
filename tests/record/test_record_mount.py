#!/usr/bin/env python3
"""A recording folder on a USB disk not mounted yet, with record.mount at its default (auto), the
binary running headless: while nothing is mounted at /media/usb nothing is written under it (it
would land on the system disk, hidden once the disk is mounted over it) and status.json says it
waits for the disk; once a disk (a tmpfs) is mounted there recording starts by itself and its file,
on the disk, decodes. The picture goes on throughout.

Mounting needs root and a private mount namespace (unshare -m): the script runs itself again
inside one, where /media is a folder of this test on the root file system (a bind mount, so it is
on the same file system as / as the real /media is) and the disk a tmpfs. Exit 77 (skipped) where
that is not allowed."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "control"))
from dw_app import App, Checks  # noqa: E402

SKIP = 77
exe = os.path.abspath(sys.argv[1])


def skip(why):
    print(f"skipped: {why}", flush=True)
    sys.exit(SKIP)


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


if os.environ.get("DW_IN_MOUNT_NS") != "1":
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("mount") is None:
        skip("needs root, unshare and mount")
    probe = sh("unshare", "-m", "--propagation", "private", "true")
    if probe.returncode != 0:
        skip(f"no private mount namespace: {probe.stderr.strip()}")
    env = dict(os.environ, DW_IN_MOUNT_NS="1")
    sys.exit(subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                             os.path.abspath(__file__), exe], env=env).returncode)

# In the private mount namespace: mounts here are seen by this script and the binary only.
root_dev = os.stat("/").st_dev
bases = [tempfile.gettempdir(), "/var/tmp", HERE]
base = next((b for b in bases if os.path.isdir(b) and os.stat(b).st_dev == root_dev), None)
if base is None or not os.path.isdir("/media"):
    skip("no scratch folder on the root file system, or no /media")


def count_frames(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                        "-show_entries", "stream=nb_read_frames", "-of", "json", path],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return 0, r.stderr
    return int(json.loads(r.stdout)["streams"][0].get("nb_read_frames", 0)), ""


def rec(s):
    return s.get("recording", {}) if s else {}


c = Checks()
with tempfile.TemporaryDirectory(dir=base) as d:
    media = os.path.join(d, "media")
    under = os.path.join(media, "usb")  # what the system disk holds at /media/usb
    os.makedirs(under)
    probe_dir = os.path.join(d, "probe")
    os.makedirs(probe_dir)
    if sh("mount", "-t", "tmpfs", "tmpfs", probe_dir).returncode != 0:
        skip("tmpfs cannot be mounted here")
    sh("umount", probe_dir)
    if sh("mount", "--bind", media, "/media").returncode != 0:
        skip("cannot bind a folder over /media")
    app = None
    try:
        work = os.path.join(d, "work")
        os.makedirs(work)
        app = App(exe, work, "", extra_args=[
            "--record.enabled", "true", "--record.dir", "/media/usb/rec",
            "--record.archive_dir", "/media/usb/archive", "--record.fps", "10",
            "--record.min_free_mb", "8", "--display.headless_fps", "30"])
        s = app.wait_status(lambda s: "nothing is mounted at /media/usb"
                            in rec(s).get("last_error", "") and s["frame"]["presented"] > 0,
                            timeout=60)
        c.check("status says nothing is mounted at /media/usb and it waits for the disk",
                s is not None and "record.mount = auto" in rec(s)["last_error"]
                and "waiting for the disk" in rec(s)["last_error"] and not rec(s).get("on"),
                f"{rec(app.status())} {app.log_text()[-1500:]}")
        c.check("the log says so too", app.wait_log("nothing is mounted at /media/usb", 10),
                app.log_text()[-1500:])
        presented = (app.status() or {}).get("frame", {}).get("presented", 0)
        c.check("nothing is written under the empty mount point", os.listdir(under) == [],
                f"{os.listdir(under)}")

        mounted = sh("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", "/media/usb")
        c.check("a disk (tmpfs) is mounted at /media/usb", mounted.returncode == 0, mounted.stderr)
        s = app.wait_status(lambda s: rec(s).get("on") and rec(s).get("frames_written", 0) >= 5,
                            timeout=120)
        c.check("recording starts by itself once the disk is mounted", s is not None,
                f"{rec(app.status())} {app.log_text()[-1500:]}")
        c.check("status no longer says it waits", s is not None and rec(s).get("last_error") == "",
                f"{rec(s)}")
        later = app.wait_status(lambda s: s["frame"]["presented"] > presented, timeout=30)
        c.check("the picture went on throughout", presented > 0 and later is not None,
                f"{presented} presented while waiting, then {rec(app.status())}")
        videos = sorted(f for f in os.listdir("/media/usb/rec") if f.endswith(".mp4")) \
            if os.path.isdir("/media/usb/rec") else []
        code = app.stop()
        c.check("the binary exits 0", code == 0, f"exit {code}, {app.log_text()[-1500:]}")
        c.check("the recording is on the disk", len(videos) >= 1, f"{videos}")
        if videos:
            n, err = count_frames(os.path.join("/media/usb/rec", videos[0]))
            c.check("and decodes", n >= 5, f"{n} frames decoded {err}")
        sh("umount", "/media/usb")
        c.check("still nothing under the mount point on the system disk", os.listdir(under) == [],
                f"{os.listdir(under)}")
    finally:
        if app is not None:
            app.stop()
        sh("umount", "/media/usb")
        sh("umount", "/media")
c.finish()
