#!/usr/bin/env python3
"""An installation's long run with a failing server (by hand, not in CI): dreamwindow headless at its
defaults, paced at 60 Hz, against the fake ComfyUI server, which is made to fail on a fixed schedule
(slow, erroring, dropping sockets, hanging, losing its answers, stalling, collapsing, frying,
adding noise, restarting, killed with SIGKILL and started again). Throughout, it samples status.json and /proc, and every
`--shot-every` seconds asks the app (its web remote's screenshot action) for two pictures one second
apart.

    /usr/bin/python3 bench/soak/fault_soak.py --exe build/cuda/dreamwindow --minutes 60 --out DIR

What a person would care about, checked over the whole run:
  - the picture never goes black (every screenshot's mean);
  - it never stands still: each pair of screenshots one second apart differs, and the display's
    frame counter rises in every sample;
  - after each fault ends, keyframes arrive again (time to the next keyframe);
  - after the fry and noise faults end, the picture's measure (status.json fry index, hf) comes
    back near its level before the fault;
  - resident memory is flat after warm-up and descriptors return to their count;
  - SIGTERM at the end: exit 0.
Reported, not checked: how flat the pictures get and the clipped fraction at the start and end.
The fake server's "generation" inverts its input exactly, so its stream crossfades through grey
between a picture and its negative, and a fried or collapsed picture is not healed by it as a
diffusion model would (only the app's injections change it): those figures describe the fake as
much as the app.
Prints one line per fault, a table of figures, writes DIR/soak.json and the screenshots, and exits
1 when a check fails. With ../shared/models present the CPU VAE runs the real taef2 weights.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from checks import Checks  # noqa: E402
from soak import rss_kb as proc_rss_kb  # noqa: E402 (the memory soak's /proc reader)

FAKE = os.path.join(ROOT, "tests", "comfy", "fake_comfy.py")

# (name, what is posted to /_control/fault when it starts, what is posted when it ends or None,
#  seconds it lasts). "kill" is not a server fault: the server process is killed and started again.
FAULTS = [
    ("latency 20 s", {"kind": "latency", "seconds": 20}, {"kind": "latency", "seconds": 0}, 90),
    ("http500 x8", {"kind": "http500", "count": 8}, None, 0),
    ("drop_socket x5", {"kind": "drop_socket", "count": 5}, None, 0),
    ("hang x3", {"kind": "hang", "count": 3}, None, 0),
    ("unanswered x3", {"kind": "unanswered", "count": 3}, None, 0),
    ("execution_error x5", {"kind": "execution_error", "count": 5}, None, 0),
    ("collapse", {"kind": "collapse", "count": -1}, {"kind": "collapse", "count": 0}, 90),
    ("fry", {"kind": "fry", "count": -1}, {"kind": "fry", "count": 0}, 90),
    ("noise", {"kind": "noise", "count": -1}, {"kind": "noise", "count": 0}, 90),
    ("stall x2", {"kind": "stall", "count": 2}, None, 0),
    ("restart 30 s", {"kind": "restart", "seconds": 30}, None, 30),
    ("SIGKILL, 60 s gone", "kill", None, 60),
    ("step_delay 1 s", {"kind": "step_delay", "seconds": 1}, {"kind": "step_delay", "seconds": 0}, 90),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body=None, timeout=5):
    data = json.dumps(body or {}).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")


def start_server(port):
    proc = subprocess.Popen(["/usr/bin/python3", FAKE, "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        raise RuntimeError(f"the fake ComfyUI server did not start on port {port}")
    return proc


def picture(path):
    """Measures of one screenshot: mean and spread of luminance, clipped fraction, fine detail."""
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    lum = rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    lap = np.abs(4 * lum[1:-1, 1:-1] - lum[:-2, 1:-1] - lum[2:, 1:-1] - lum[1:-1, :-2] - lum[1:-1, 2:])
    return {"mean": float(lum.mean()), "std": float(lum.std()),
            "clipped": float(((rgb <= 2) | (rgb >= 253)).mean()), "detail": float(lap.mean()),
            "rgb": rgb}


class Soak:
    def __init__(self, args):
        self.args = args
        self.work = args.out or tempfile.mkdtemp(prefix="dw-fault-soak-")
        self.shots_dir = os.path.join(self.work, "shots")
        os.makedirs(self.shots_dir, exist_ok=True)
        self.status_path = os.path.join(self.work, "status.json")
        self.port = free_port()
        self.server = start_server(self.port) if args.server == "fake" else None
        self.comfy = f"http://127.0.0.1:{self.port}"
        self.samples = []  # dicts: t, presented, content, keyframes, rss_kb, fds, buffer_s
        self.shots = []  # dicts: t, name, measures of both, motion
        self.faults = []  # dicts: name, start, end, recovered_after_s
        self.log_path = os.path.join(self.work, "app.log")
        self.start = time.monotonic()

    def launch(self):
        a = self.args
        cmd = [a.exe, "--headless", "--display.headless_paced", "true",
               "--display.headless_fps", "60",
               "--display.width", str(a.width), "--display.height", str(a.height),
               "--source.kind", a.source,
               "--comfy.width", str(a.size), "--comfy.height", str(a.size),
               "--status.path", self.status_path, "--status.interval_s", "1",
               "--cache.dir", os.path.join(self.work, "cache"),
               "--remote.enabled", "true", "--remote.port", "0", "--remote.require_token", "false",
               "--record.screenshot_dir", self.shots_dir]
        # With no server the app keeps its default ComfyUI address, where nothing answers: a
        # first run's picture, the offline generator alone.
        if self.server:
            cmd += ["--comfy.urls", self.comfy]
        models = os.path.join(os.path.dirname(ROOT), "shared", "models")
        if os.path.exists(os.path.join(models, "taef2_decoder.safetensors")):
            cmd += ["--vae.decoder", os.path.join(models, "taef2_decoder.safetensors"),
                    "--vae.encoder", os.path.join(models, "taef2_encoder.safetensors")]
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(self.work, "config"),
                   XDG_STATE_HOME=os.path.join(self.work, "state"))
        self.log = open(self.log_path, "w")
        self.app = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            s = self.status()
            if s and s["remote"]["url"] and s["frame"]["content_frames_shown"] > 0:
                self.remote = s["remote"]["url"]
                return
            time.sleep(0.2)
        raise RuntimeError("dreamwindow did not start showing content within 60 s")

    def status(self):
        try:
            with open(self.status_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def t(self):
        return time.monotonic() - self.start

    def sample(self):
        s = self.status()
        if not s or self.app.poll() is not None:
            return
        self.samples.append({
            "t": self.t(), "presented": s["frame"]["presented"],
            "content": s["frame"]["content_frames_shown"], "keyframes": s["generation"]["keyframes"],
            "buffer_s": s["buffer"]["seconds"], "rss_kb": proc_rss_kb(self.app.pid),
            "fds": len(os.listdir(f"/proc/{self.app.pid}/fd")), "hf": s["collapse"]["hf"],
            "fry": s["collapse"]["fry"], "injections": s["injection"]["total"],
            "sameness": [s["collapse"]["colour_similarity"], s["collapse"]["structure_similarity"]],
            "holding_variety": bool(s["collapse"].get("holding_variety", False)),
            "source": s["generation"]["source"],
            "failovers": s["generation"]["counters"].get("failovers", 0),
            "fallback_keyframes": s["generation"]["counters"].get("fallback_keyframes", 0),
            **{name: s["generation"]["counters"].get(name, 0)
               for name in ("overdue_covers", "starving_covers", "late_keyframes", "late_shown")},
            "cache_refused_degenerate": s["cache"]["refused_degenerate"],
            "cache_refused_collapse": s["cache"].get("refused_collapse", 0),
            "cache_forgotten": s["cache"].get("forgotten", 0)})

    def screenshot(self):
        """Asks for a screenshot and waits (deadline 10 s) for its file; returns its path."""
        before = set(os.listdir(self.shots_dir))
        post(self.remote + "/api/actions/screenshot")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            new = [n for n in set(os.listdir(self.shots_dir)) - before if n.endswith(".png")]
            if new:
                path = os.path.join(self.shots_dir, new[0])
                time.sleep(0.3)  # the writer renames a finished file into place; let it settle
                return path
            time.sleep(0.1)
        return None

    def shot_pair(self):
        first = self.screenshot()
        time.sleep(1.0)  # the pair is one second apart by design: motion within a second
        second = self.screenshot()
        if not first or not second:
            self.shots.append({"t": self.t(), "missing": True})
            return
        a, b = picture(first), picture(second)
        motion = float(np.abs(a["rgb"] - b["rgb"]).mean())
        for m in (a, b):
            del m["rgb"]
        self.shots.append({"t": self.t(), "files": [first, second], "a": a, "b": b,
                           "motion": motion})

    def fault_start(self, fault):
        name, body, _, _ = fault
        if body == "kill":
            self.server.send_signal(signal.SIGKILL)
            self.server.wait()
        else:
            post(self.comfy + "/_control/fault", body)

    def fault_end(self, fault):
        _, body, undo, _ = fault
        if body == "kill":
            self.server = start_server(self.port)
        elif undo:
            post(self.comfy + "/_control/fault", undo)

    def run(self):
        a = self.args
        self.launch()
        end = self.start + a.minutes * 60
        next_sample = next_shot = time.monotonic()
        next_fault = self.start + a.warmup
        fault_index = 0
        active = None  # (fault, ends_at, record)
        while time.monotonic() < end and self.app.poll() is None:
            now = time.monotonic()
            if active and now >= active[1]:
                self.fault_end(active[0])
                active[2]["end"] = self.t()
                print(f"t {self.t():6.0f} s  fault over: {active[0][0]}", flush=True)
                active = None
            if self.server and active is None and now >= next_fault and now < end - a.fault_every:
                fault = FAULTS[fault_index % len(FAULTS)]
                fault_index += 1
                record = {"name": fault[0], "start": self.t(), "end": None}
                self.faults.append(record)
                print(f"t {self.t():6.0f} s  fault: {fault[0]}", flush=True)
                self.fault_start(fault)
                active = (fault, now + fault[3], record)
                if fault[3] == 0:
                    record["end"] = self.t()
                    active = None
                next_fault = now + a.fault_every
            if now >= next_sample:
                self.sample()
                next_sample = now + 2
                s = self.samples[-1] if self.samples else None
                if s and len(self.samples) % 30 == 0:
                    print(f"t {s['t']:6.0f} s  presented {s['presented']}  content {s['content']}  "
                          f"keyframes {s['keyframes']}  buffer {s['buffer_s']:.1f} s  "
                          f"rss {s['rss_kb'] / 1024:.1f} MB  fds {s['fds']}", flush=True)
            if now >= next_shot:
                self.shot_pair()
                next_shot = now + a.shot_every
            time.sleep(0.1)
        if active:
            self.fault_end(active[0])
            active[2]["end"] = self.t()
        crashed = self.app.poll()
        self.app.send_signal(signal.SIGTERM)
        try:
            code = self.app.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.app.kill()
            code = "hung at exit"
        if self.server:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(timeout=10)
        return crashed, code

    def recovery(self, record):
        """Seconds from a fault's end until the next keyframe arrived (None: none did)."""
        if record["end"] is None:
            return None
        before = [s["keyframes"] for s in self.samples if s["t"] <= record["end"]]
        base = before[-1] if before else 0
        for s in self.samples:
            if s["t"] > record["end"] and s["keyframes"] > base:
                return s["t"] - record["end"]
        return None


# The faults that degrade the picture itself, the status measure each drives, and how near its level
# before the fault it must come back: half the degeneration detector's default scale
# (collapse.fry_scale 0.35, collapse.noise_scale 0.30), the level the app calls healed.
PICTURE_FAULTS = {"fry": ("fry", 0.175), "noise": ("hf", 0.15)}


def picture_back(samples, record, window=20.0):
    """For a fry or noise fault: (level before, worst, seconds from the fault's end until the median
    of the measure over the next `window` seconds is back under the level before plus the margin,
    or None if it never is). None for other faults."""
    if record["name"] not in PICTURE_FAULTS or record["end"] is None:
        return None
    key, margin = PICTURE_FAULTS[record["name"]]
    before = [x[key] for x in samples if record["start"] - 60 <= x["t"] < record["start"]]
    if not before:
        return None
    level = float(np.median(before))
    worst = max((x[key] for x in samples if x["t"] >= record["start"]), default=level)
    after = [x for x in samples if x["t"] >= record["end"]]
    for i, x in enumerate(after):
        span = [y[key] for y in after[i:] if y["t"] <= x["t"] + window]
        if x["t"] + window <= after[-1]["t"] and float(np.median(span)) < level + margin:
            return level, worst, x["t"] - record["end"]
    return level, worst, None


def variety_back(samples, record):
    """For the collapse fault: seconds from its end until the app let go of the variety it held
    from before the collapse (status collapse.holding_variety: consecutive keyframes differ as they
    did), 0 when it was not holding at the end, None when it still holds at the end of the run."""
    if record["name"] != "collapse" or record["end"] is None:
        return None
    after = [x for x in samples if x["t"] >= record["end"]]
    for x in after:
        if not x.get("holding_variety"):
            return x["t"] - record["end"]
    return None


def cache_variation(cache_dir):
    """The cache's entries at the end and the least colour variation among them (the sixth picture
    measure; an index from before it has five)."""
    try:
        with open(os.path.join(cache_dir, "index.json")) as f:
            entries = json.load(f)["entries"]
    except (OSError, ValueError, KeyError):
        return "-"
    values = [e["measures"][5] for e in entries if len(e.get("measures", [])) > 5]
    return f"{len(entries)}, {min(values):.1f}" if values else f"{len(entries)}, -"


def fault_at(faults, t):
    """The fault in force at time t (or the one that ended last before it), for a reader."""
    for f in faults:
        if f["start"] <= t and (f["end"] is None or t <= f["end"]):
            return f["name"]
    ended = [f for f in faults if f["end"] is not None and f["end"] < t]
    return f"after {ended[-1]['name']}" if ended else "no fault"


def contact_sheet(shots, faults, path, columns=6, thumb=(160, 90)):
    """One picture of the run: the first screenshot of each pair, labelled with its minute and the
    fault in force then."""
    from PIL import ImageDraw
    shots = [x for x in shots if not x.get("missing")]
    rows = (len(shots) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * thumb[0], rows * (thumb[1] + 14)), (40, 40, 40))
    draw = ImageDraw.Draw(sheet)
    for i, x in enumerate(shots):
        im = Image.open(x["files"][0]).convert("RGB").resize(thumb, Image.BILINEAR)
        cx, cy = (i % columns) * thumb[0], (i // columns) * (thumb[1] + 14)
        sheet.paste(im, (cx, cy + 14))
        during = [f["name"] for f in faults if f["start"] <= x["t"] and (f["end"] or f["start"]) + 60 >= x["t"]]
        draw.text((cx + 3, cy + 1), f"{x['t'] / 60:.0f} min {during[-1] if during else ''}",
                  fill=(230, 230, 230))
    sheet.save(path, optimize=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", default=os.path.join(ROOT, "build", "cuda", "dreamwindow"))
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--size", type=int, default=256, help="keyframe size (comfy.width/height)")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--source", default="auto", choices=("auto", "comfy"),
                    help="source.kind: auto (the default: the offline generator covers an outage) "
                         "or comfy (ComfyUI only: an outage is bridged by idle motion alone)")
    ap.add_argument("--server", default="fake", choices=("fake", "none"),
                    help="fake: the fake ComfyUI server, failing on schedule; none: no server and no "
                         "faults, the app at its defaults alone (what a first run shows, for hours)")
    ap.add_argument("--warmup", type=float, default=120, help="seconds before the first fault")
    ap.add_argument("--fault-every", type=float, default=180)
    ap.add_argument("--shot-every", type=float, default=60)
    ap.add_argument("--recovery-limit", type=float, default=120,
                    help="seconds from a fault's end to the next keyframe")
    ap.add_argument("--out", default="")
    ap.add_argument("--contact", default="", help="write a contact sheet of the screenshots here")
    args = ap.parse_args()

    soak = Soak(args)
    crashed, code = soak.run()
    c = Checks()
    s, shots = soak.samples, [x for x in soak.shots if not x.get("missing")]
    c.check("the app ran the whole time", crashed is None, f"it exited with {crashed}")
    c.check("SIGTERM at the end: exit 0", code == 0, f"exit {code}; log {soak.log_path}")
    c.check("every screenshot was written", len(shots) == len(soak.shots) and shots,
            f"{len(soak.shots) - len(shots)} of {len(soak.shots)} missing")
    dark = [x for x in shots for m in (x["a"], x["b"]) if m["mean"] < 12]
    c.check("no screenshot black (luminance mean >= 12 of 255)", not dark,
            f"{len(dark)}: first at t {dark[0]['t']:.0f} s" if dark else "")
    still = [x for x in shots if x["motion"] < 0.2]
    c.check("each pair of screenshots 1 s apart differs (mean |diff| >= 0.2 of 255)", not still,
            ", ".join(f"t {x['t']:.0f} s: {x['motion']:.3f}" for x in still[:5]))
    stalls = [(p["t"], q["t"]) for p, q in zip(s, s[1:]) if q["presented"] <= p["presented"]]
    c.check("the display presented frames in every 2 s sample", not stalls, str(stalls[:5]))
    recov = [(f["name"], soak.recovery(f)) for f in soak.faults]
    late = [(n, r) for n, r in recov if r is None or r > args.recovery_limit]
    c.check(f"after every fault a keyframe arrived within {args.recovery_limit:.0f} s", not late, str(late))
    healing = [(f["name"], picture_back(s, f)) for f in soak.faults]
    unhealed = [n for n, h in healing if h is not None and h[2] is None]
    c.check("after fry and noise the picture comes back near its level before (status fry, hf)",
            not unhealed, ", ".join(unhealed))
    warm = [x for x in s if x["t"] >= args.warmup + 300]
    growth = (max(x["rss_kb"] for x in warm[len(warm) // 2:]) - warm[0]["rss_kb"]) / 1024 if len(warm) > 4 else None
    c.check("resident memory grows < 20 MB after warm-up", growth is not None and growth < 20, f"{growth}")
    fds = [x["fds"] for x in s]
    c.check("open descriptors end where they started (+-4)", fds and abs(fds[-1] - fds[0]) <= 4,
            f"{fds[0] if fds else None} -> {fds[-1] if fds else None}, max {max(fds) if fds else None}")

    gaps, last_change = [], None  # (seconds, from t) with no new content frame
    for p, q in zip(s, s[1:]):
        if q["content"] != p["content"]:
            if last_change is not None:
                gaps.append((q["t"] - last_change, last_change))
            last_change = q["t"]
    if s and last_change is not None:
        gaps.append((s[-1]["t"] - last_change, last_change))
    longest = max(gaps, default=None)
    print("\n| fault | start s | keyframe again after s | picture: level before, worst, back after s |"
          "\n| --- | --- | --- | --- |")
    for f, (_, r), (_, h) in zip(soak.faults, recov, healing):
        back = "-" if h is None else (f"{h[0]:.2f}, {h[1]:.2f}, "
                                      f"{'never' if h[2] is None else f'{h[2]:.0f}'}")
        if f["name"] == "collapse" and f["end"] is not None:
            v = variety_back(s, f)
            held = any(x.get("holding_variety") for x in s if x["t"] >= f["start"])
            back = ("variety never held" if not held else
                    f"variety held until {'the end' if v is None else f'{v:.0f} s after'}")
        print(f"| {f['name']} | {f['start']:.0f} | {'none' if r is None else f'{r:.0f}'} | {back} |")
    motions = [x["motion"] for x in shots]
    means = [m["mean"] for x in shots for m in (x["a"], x["b"])]
    print("\n| measure | value |\n| --- | --- |")
    rows = [
        ("duration", f"{s[-1]['t']:.0f} s" if s else "-"),
        ("display frames presented", f"{s[-1]['presented']}" if s else "-"),
        ("content frames shown", f"{s[-1]['content']}" if s else "-"),
        ("keyframes", f"{s[-1]['keyframes']}" if s else "-"),
        ("injections", f"{s[-1]['injections']}" if s else "-"),
        ("degenerate frames the cache refused", f"{s[-1]['cache_refused_degenerate']}" if s else "-"),
        ("collapse frames the cache refused, kept ones taken out again",
         f"{s[-1]['cache_refused_collapse']:.0f}, {s[-1]['cache_forgotten']:.0f}" if s else "-"),
        ("cache entries at the end, least colour variation (cache.min_variation, off by default)",
         cache_variation(os.path.join(soak.work, "cache"))),
        ("failovers to the offline generator, keyframes it made",
         f"{s[-1]['failovers']:.0f}, {s[-1]['fallback_keyframes']:.0f}" if s else "-"),
        ("overdue covers (while starving), server keyframes finished late (shown)",
         f"{s[-1]['overdue_covers']:.0f} ({s[-1]['starving_covers']:.0f}), "
         f"{s[-1]['late_keyframes']:.0f} ({s[-1]['late_shown']:.0f})" if s else "-"),
        ("time on the offline fallback", f"{sum(q['t'] - p['t'] for p, q in zip(s, s[1:]) if p['source'] == 'offline'):.0f} s"),
        ("longest time without a new content frame",
         f"{longest[0]:.0f} s from t {longest[1]:.0f} s ({fault_at(soak.faults, longest[1])})"
         if longest else "-"),
        ("screenshot pairs", f"{len(shots)}"),
        ("motion in 1 s (mean abs diff of 255), min / median", f"{min(motions):.2f} / {np.median(motions):.2f}" if motions else "-"),
        ("screenshots nearly flat (luminance spread < 4 of 255)",
         f"{sum(1 for x in shots for m in (x['a'], x['b']) if m['std'] < 4)} of {2 * len(shots)}"),
        ("clipped fraction, first / last screenshot",
         f"{shots[0]['a']['clipped']:.3f} / {shots[-1]['b']['clipped']:.3f}" if shots else "-"),
        ("luminance mean, min / max", f"{min(means):.1f} / {max(means):.1f}" if means else "-"),
        ("RSS after warm-up, growth", f"{warm[0]['rss_kb'] / 1024:.1f} MB, {growth:.1f} MB" if growth is not None else "-"),
        ("open descriptors min / max", f"{min(fds)} / {max(fds)}" if fds else "-"),
    ]
    for r in rows:
        print(f"| {r[0]} | {r[1]} |")
    with open(os.path.join(soak.work, "soak.json"), "w") as f:
        json.dump({"samples": s, "shots": soak.shots, "faults": soak.faults}, f, indent=1)
    if args.contact and soak.shots:
        contact_sheet(soak.shots, soak.faults, args.contact)
    print(f"\nwork dir: {soak.work}")
    c.finish()


if __name__ == "__main__":
    main()
