#!/usr/bin/env python3
"""dreamwindow against a hostile ComfyUI (fake_comfy.py --hostile KIND): JSON nested 100000 levels
deep or multiplied into millions of values on the WebSocket, /object_info, POST /prompt's 400 and
/history; a WebSocket ping whose 64-bit length wraps; floods of image frames and text messages;
error texts with broken characters, terminal escapes and forged log lines. For each: no crash,
memory bounded (peak RSS of the process under 500 MB, read from /proc), status.json rewritten
and valid UTF-8 throughout, a clear error naming the limit in the log, and the picture keeps
going (the offline fallback makes keyframes in `auto` mode).

Usage: test_app_hostile.py DREAMWINDOW [KIND ...] (all kinds when none is given). Headless, with
or without an X server (SDL's offscreen EGL driver). Each run lasts until what it must show has
happened (a generous deadline otherwise) and ends with SIGTERM; nothing depends on speed."""
import json
import os
import signal
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

# The memory a hostile server may cost us at most; sanitizer builds (shadow memory, quarantine)
# pass their own limit through DW_RSS_LIMIT_MB.
RSS_LIMIT_MB = float(os.environ.get("DW_RSS_LIMIT_MB", "500"))
# kind -> (text the log must show, keyframes the run must still make)
KINDS = {
    "deep_ws": ("nests deeper than 64 levels (the JSON depth limit)", 3),
    "deep_object_info": ("nests deeper than 64 levels (the JSON depth limit)", 3),
    "deep_prompt": ("nests deeper than 64 levels (the JSON depth limit)", 3),
    "deep_history": ("nests deeper than 64 levels (the JSON depth limit)", 3),
    "wrap_ping": ("invalid WebSocket frame length 18446744073709551615", 3),
    "bomb_ws": ("(the JSON element limit)", 3),
    "bomb_object_info": ("(the JSON element limit)", 3),
    "bomb_history": ("(the JSON element limit)", 3),
    # Prompts take 2.5 s while 1 MB frames pour in (608 MB peak without the per-prompt bound):
    # the memory is the point; a slow server's keyframes are the failover's business.
    "flood_frames": ("", 0),
    # Every message is read, so the server's own messages, queued behind the flood, get through:
    # its keyframes must reach the screen (SERVER_KEYFRAMES), not only the offline fallback's.
    "flood_text": ("", 3),
    # Every prompt gets a 500 while every probe succeeds: covering for a server that answers but
    # never delivers is the failover's job (issue 10, "health means delivering"), not this test's.
    "bad_text": ("answered HTTP 500: Erreur du modèle: \\x1b[2J\\x1b[31m\\n[2026-01-01", 0),
}
FORGED = "\n[2026-01-01 00:00:00.000] [info] comfy: all good"
SERVER_KEYFRAMES = {"flood_text": 3}  # kind -> keyframes the server's prompts must deliver

exe = [os.path.abspath(sys.argv[1])]  # run directly: headless needs no X server (SDL offscreen)
kinds = sys.argv[2:] or list(KINDS)
here = os.path.dirname(os.path.abspath(__file__))


def app_pid(marker):
    """The dreamwindow process whose command line holds `marker`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if args and os.path.basename(args[0]) == b"dreamwindow" and marker.encode() in args:
            return int(entry)
    return None


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def read_status(path):
    """status.json as strict UTF-8 JSON, or the reason it is not."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8")), ""
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return None, str(e)


def where_it_hangs(pid):
    """The main thread's stack of a process that did not stop (gdb, when there is one)."""
    if not shutil.which("gdb"):
        return ""
    try:
        r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread 1", "-ex", "bt 16"],
                           capture_output=True, text=True, timeout=60)
        return "\n".join(line for line in r.stdout.splitlines() if line.startswith("#"))
    except (OSError, subprocess.TimeoutExpired):
        return ""


def fake_prompts(url):
    try:
        with urllib.request.urlopen(url + "/_control/stats", timeout=5) as r:
            return json.load(r)["prompts_executed"]
    except (OSError, ValueError, KeyError):
        return 0


def run_against(kind, expected, min_keyframes):
    """Runs the app until what the kind must show has happened (or a generous deadline), then
    stops it with SIGTERM as a service manager would, and checks what it left."""
    server = subprocess.Popen([sys.executable, os.path.join(here, "fake_comfy.py"), "--port", "0",
                               "--hostile", kind], stdout=subprocess.PIPE, text=True)
    try:
        url = "http://127.0.0.1:" + server.stdout.readline().split()[1]
        with tempfile.TemporaryDirectory() as d:
            status_path = os.path.join(d, "status.json")
            err_path = os.path.join(d, "stderr.log")
            args = exe + ["--headless", "--comfy.urls", url,
                          "--source.kind", "auto", "--comfy.width", "128", "--comfy.height", "128",
                          "--comfy.retry_max_s", "1", "--cache.dir", os.path.join(d, "cache"),
                          "--status.path", status_path, "--status.interval_s", "0.2",
                          "--playback.min_buffer_s", "0", "--display.width", "320",
                          "--display.height", "240"]
            with open(err_path, "wb") as err_file:
                proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err_file,
                                        env=dict(os.environ, XDG_CONFIG_HOME=d))
            peak, pid, bad_status, rewrites, last_mtime, keyframes = 0.0, None, "", 0, None, 0
            from_server, server_needs = 0, SERVER_KEYFRAMES.get(kind, 0)
            deadline = time.monotonic() + 180
            next_stats, prompts = 0.0, 0
            started, prompt_times = time.monotonic(), []  # when the fake's count last rose
            while proc.poll() is None and time.monotonic() < deadline:
                pid = pid or app_pid(status_path)
                if pid:
                    peak = max(peak, rss_mb(pid))
                try:
                    mtime = os.stat(status_path).st_mtime_ns
                except OSError:
                    mtime = None
                if mtime is not None and mtime != last_mtime:
                    last_mtime = mtime
                    status, why = read_status(status_path)
                    if status is None and why and "Expecting value" not in why:
                        bad_status = bad_status or why
                    generation = (status or {}).get("generation", {})
                    keyframes = max(keyframes, generation.get("keyframes", 0))
                    from_server = max(from_server,
                                      generation.get("counters", {}).get("keyframes", 0))
                    if status and (not expected or any(s.get("errors")
                                                       for s in generation.get("servers", []))):
                        rewrites += 1  # rewritten (after the server's first error, if any)
                if kind.startswith("flood") and time.monotonic() > next_stats:
                    seen, next_stats = fake_prompts(url), time.monotonic() + 0.5
                    if seen > prompts:
                        prompt_times.append(round(time.monotonic() - started, 1))
                    prompts = max(prompts, seen)
                with open(err_path, "rb") as f:
                    logged = not expected or expected.encode() in f.read()
                if (rewrites >= 5 and logged and keyframes >= min_keyframes and
                        (not kind.startswith("flood") or prompts >= 3) and
                        from_server >= server_needs):
                    break
                time.sleep(0.05)
            stopped, hang = False, ""
            if pid and proc.poll() is None:
                os.kill(pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                    stopped = True
                except subprocess.TimeoutExpired:
                    hang = where_it_hangs(pid)
                    os.kill(pid, signal.SIGKILL)  # never leave it behind
                    proc.kill()
            proc.communicate(timeout=60)
            with open(err_path, "rb") as f:
                err = f.read().decode("utf-8", errors="replace")
            final, why = read_status(status_path)
            final = final or {}
            keyframes = final.get("generation", {}).get("keyframes", 0)
            check(f"{kind}: ran until stopped, then exit 0 (no crash, no hang)",
                  stopped and proc.returncode == 0,
                  f"exit {proc.returncode}: {err[-800:]}" + (f"\nhung in:\n{hang}" if hang else ""))
            check(f"{kind}: peak RSS {peak:.0f} MB < {RSS_LIMIT_MB} MB",
                  0 < peak < RSS_LIMIT_MB, f"{peak:.0f} MB (pid {pid})")
            check(f"{kind}: status.json rewritten after the error and valid UTF-8 JSON throughout",
                  not bad_status and not why and rewrites >= 5,
                  bad_status or why or f"{rewrites} rewrites")
            if min_keyframes:
                check(f"{kind}: the picture kept going ({keyframes} keyframes)",
                      keyframes >= min_keyframes, final.get("generation"))
            if kind.startswith("flood"):
                # On failure: when the count rose, and what the app said (a CI run once saw 2 in
                # 180 s under ASan and load; alone it is 4-7 in 7 s).
                check(f"{kind}: prompts ran during the flood ({prompts})", prompts >= 3,
                      f"count rose at {prompt_times} s; the app's log ends:\n{err[-2500:]}")
            if server_needs:
                counters = final.get("generation", {}).get("counters", {})
                check(f"{kind}: the server's keyframes got through ({from_server})",
                      from_server >= server_needs,
                      f"{counters}; the app's log ends:\n{err[-2500:]}")
            if expected:
                check(f"{kind}: the log names the problem", expected in err, err[-1500:])
            check(f"{kind}: no terminal escapes or forged lines from the server in the log",
                  "\x1b" not in err and FORGED not in err, repr(err[-600:]))
            if kind == "bad_text":
                last = json.dumps(final, ensure_ascii=False)
                check(f"{kind}: status.json holds the error, escaped",
                      "\\\\x1b[2J" in last and "Erreur du modèle" in last, last[-1200:])
    finally:
        server.terminate()
        server.wait(timeout=10)


for kind in kinds:
    expected, min_keyframes = KINDS[kind]
    run_against(kind, expected, min_keyframes)

finish()
