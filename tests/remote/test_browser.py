#!/usr/bin/env python3
"""The web remote in a real browser: headless Chromium (Debian's `chromium`) opens the page the
real dreamwindow binary serves (headless, remote on a free port), and through the page itself
the test sees live status arrive, changes a parameter and presses an action; the running app
changed (checked through the API). Chromium is driven over the DevTools protocol with a small
WebSocket client written on Python's standard library.

usage: test_browser.py DREAMWINDOW [CHROMIUM]"""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]
chromium = sys.argv[2] if len(sys.argv) > 2 else (shutil.which("chromium") or "chromium")


def wait_for(predicate, timeout, interval=0.2):
    """Polls until predicate() is truthy or the deadline passes; returns its last value. A page
    script that fails (a document between two navigations) counts as not yet."""
    def attempt():
        try:
            return predicate()
        except RuntimeError:
            return None
    deadline = time.monotonic() + timeout
    value = attempt()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = attempt()
    return value


class LineReader(threading.Thread):
    """Collects a process's stderr lines so the test can wait for one."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines, self.lock = stream, [], threading.Lock()
        self.start()

    def run(self):
        for line in self.stream:
            with self.lock:
                self.lines.append(line)

    def find(self, pattern):
        with self.lock:
            for line in self.lines:
                m = re.search(pattern, line)
                if m:
                    return m
        return None

    def text(self):
        with self.lock:
            return "".join(self.lines)


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames, client masking."""

    def __init__(self, url):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {m.group(3)} HTTP/1.1\r\nHost: {m.group(1)}:{m.group(2)}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("DevTools closed the WebSocket handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("DevTools refused the WebSocket: " + head.decode(errors="replace"))

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("DevTools closed the WebSocket")
            data += chunk
        return data

    def send(self, text):
        payload = text.encode()
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self):
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            payload = self._exact(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise RuntimeError("DevTools closed the WebSocket")
            if opcode in (0x9, 0xA):  # ping/pong: not used by DevTools
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()


class Page:
    """One DevTools page session: call(method, params) and evaluate(expression)."""

    def __init__(self, ws_url):
        self.ws = WebSocket(ws_url)
        self.next_id = 0

    def call(self, method, params=None):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            reply = json.loads(self.ws.receive())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")


def api(port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, json.loads(data) if data else None


def start_app(d, extra=()):
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = os.path.join(d, "config")
    env["XDG_STATE_HOME"] = os.path.join(d, "state")
    env["XDG_CACHE_HOME"] = os.path.join(d, "cache")
    args = [exe, "--headless", "--display.width", "320", "--display.height", "180",
            "--vae.decoder", "none", "--comfy.width", "256", "--comfy.height", "256",
            "--remote.port", "0", "--status.interval_s", "0.5"] + list(extra)
    app = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env=env)
    return app, LineReader(app.stderr)


def start_chromium(d):
    profile = os.path.join(d, "chromium")
    args = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0",
            f"--user-data-dir={profile}", "--window-size=412,915", "about:blank"]
    browser = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return browser, LineReader(browser.stderr)


def page_target(devtools_port):
    status, targets = api(devtools_port, "GET", "/json/list")
    pages = [t for t in targets if t.get("type") == "page"]
    return pages[0]["webSocketDebuggerUrl"] if pages else None


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def drive(page, port):
    page.call("Page.enable")
    page.call("Page.navigate", {"url": f"http://127.0.0.1:{port}/"})
    params_total = len(api(port, "GET", "/api/params")[1]["params"])
    shown = wait_for(lambda: page.evaluate(
        f"location.port === '{port}' ? document.querySelectorAll('.param').length : 0")
        == params_total, 120)
    check("the page lists every parameter as a control", shown,
          page.evaluate("document.querySelectorAll('.param').length"))
    sections = page.evaluate("[...document.querySelectorAll('#params details')]"
                             ".map(d => d.dataset.section)")
    check("parameters are grouped by section", "display" in (sections or []), sections)

    updates = lambda: page.evaluate(
        "document.body ? (+document.body.dataset.statusUpdates || 0) : 0")
    first = wait_for(updates, 120)
    later = wait_for(lambda: updates() >= (first or 0) + 2, 120)
    check("live status arrives and keeps arriving", first and later, f"updates {updates()}")
    presented = page.evaluate(
        "document.querySelector('#status dd[data-path=\"frame.fps\"]').textContent")
    check("status shows the display's numbers", presented not in (None, "", "–"), presented)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    check("the page fits a phone's width (412 px) without sideways scrolling",
          widths and widths[1] <= 500 and widths[0] <= widths[1], widths)
    plotted = page.evaluate("document.getElementById('v-buffer').textContent")
    check("the plots draw the buffer", plotted not in (None, ""), plotted)

    # A parameter, through the page's own control, as a person on a phone changes it.
    page.evaluate("""(() => {
      const row = document.querySelector('.param[data-key="display.gamma"]');
      const num = row.querySelector('input[type=number]');
      num.value = '1.6';
      num.dispatchEvent(new Event('change'));
    })()""")
    applied = wait_for(lambda: api(port, "GET", "/api/params/display.gamma")[1]["value"] == 1.6, 60)
    check("changing display.gamma on the page changes the running app", applied,
          api(port, "GET", "/api/params/display.gamma")[1])
    shown = wait_for(lambda: page.evaluate(
        "document.querySelector('.param[data-key=\"display.gamma\"] input[type=number]').value")
        == "1.6", 60)
    check("the page shows the value the app took", shown)
    page.evaluate("""(() => {
      const row = document.querySelector('.param[data-key="display.gamma"]');
      const num = row.querySelector('input[type=number]');
      num.value = '99';
      num.dispatchEvent(new Event('change'));
    })()""")
    error = wait_for(lambda: page.evaluate(
        "document.querySelector('.param[data-key=\"display.gamma\"] .err').textContent"), 60)
    check("a value out of range shows the config file's error on the page",
          error and "display.gamma" in error and "[0.2, 5]" in error, error)
    check("the refused value changed nothing",
          api(port, "GET", "/api/params/display.gamma")[1]["value"] == 1.6)

    # A restart row is shown as pending.
    page.evaluate("""(() => {
      const num = document.querySelector('.param[data-key="display.width"] input[type=number]');
      num.value = '400';
      num.dispatchEvent(new Event('change'));
    })()""")
    pending = wait_for(lambda: page.evaluate(
        "!!document.querySelector('.param[data-key=\"display.width\"] .badge.pending')"), 60)
    check("a restart parameter shows 'after restart'", pending)

    press_action(page, port)


def press_action(page, port):
    actions = [a["name"] for a in api(port, "GET", "/api/actions")[1]["actions"]]
    buttons = page.evaluate("[...document.querySelectorAll('#actions button')]"
                            ".map(b => b.dataset.action)")
    check("every action has a button", sorted(buttons or []) == sorted(actions),
          f"buttons {buttons}, actions {actions}")
    if "pause" not in actions:
        check("the app registers a 'pause' action for the page to press", False, actions)
        return
    page.evaluate("document.querySelector('#actions button[data-action=\"pause\"]').click()")
    message = wait_for(lambda: page.evaluate("document.getElementById('message').textContent"), 60)
    check("pressing 'pause' on the page reports what happened", message and "pause" in message,
          message)
    paused = lambda: api(port, "GET", "/api/status")[1].get("control", {}).get("paused")
    check("the running app paused generation (status control.paused)", wait_for(paused, 60),
          api(port, "GET", "/api/status")[1].get("control"))
    shown = wait_for(lambda: page.evaluate(
        "document.querySelector('#status dd[data-path=\"control.paused\"]').textContent")
        == "yes", 60)
    check("the page's status shows it paused", shown)


def token_phase(d, devtools_port):
    """Off loopback: the app makes its token (0600), says so, refuses requests without it, and
    the page opened with #token=... works."""
    token_file = os.path.join(d, "token", "remote_token")
    app, log = start_app(os.path.join(d, "phase2"), ["--remote.address", "0.0.0.0",
                                                      "--remote.token_file", token_file])
    try:
        m = wait_for(lambda: log.find(r"remote: listening on http://0\.0\.0\.0:(\d+) "
                                      r"\(token required"), 120)
        check("off loopback the log says a token is required", m is not None, log.text()[-1500:])
        if m is None:
            return
        port = int(m.group(1))
        token = open(token_file).read().strip()
        check("the token file is 64 hex digits with mode 0600",
              re.fullmatch(r"[0-9a-f]{64}", token) is not None
              and (os.stat(token_file).st_mode & 0o777) == 0o600, oct(os.stat(token_file).st_mode))
        check("without the token the API answers 401", api(port, "GET", "/api/status")[0] == 401)
        wait_for(lambda: api(port, "GET", "/api/status", token=token)[0] == 200, 60)  # 503 at start
        status = api(port, "GET", "/api/status", token=token)
        check("with the token it answers, and status says it is protected",
              status[0] == 200 and status[1]["remote"]["token_required"] is True, status)
        page = Page(page_target(devtools_port))
        page.call("Page.navigate", {"url": f"http://127.0.0.1:{port}/#token={token}"})
        # This page, not the last one (the navigation may not have happened yet).
        updates = wait_for(lambda: page.evaluate(
            f"location.port === '{port}' && document.body ? "
            "(+document.body.dataset.statusUpdates || 0) : 0"), 120)
        check("the page opened with #token= shows live status", updates, updates)
    finally:
        stop(app)


def main():
    if not shutil.which(chromium) and not os.path.exists(chromium):
        print(f"FAIL chromium not found ({chromium}); scripts/setup.sh installs it")
        return 1
    with tempfile.TemporaryDirectory() as d:
        app, app_log = start_app(d)
        browser, browser_log = start_chromium(d)
        try:
            m = wait_for(lambda: app_log.find(r"remote: listening on http://127\.0\.0\.1:(\d+) "
                                              r"\(loopback only, no token\)"), 120)
            check("the app logs where the remote listens", m is not None, app_log.text()[-1500:])
            devtools = wait_for(lambda: browser_log.find(r"DevTools listening on ws://[^:]+:(\d+)/"),
                                120)
            check("chromium starts headless", devtools is not None, browser_log.text()[-1500:])
            if m is None or devtools is None:
                return 1
            port = int(m.group(1))
            ws_url = wait_for(lambda: page_target(int(devtools.group(1))), 60)
            drive(Page(ws_url), port)
            token_phase(d, int(devtools.group(1)))
        finally:
            stop(browser)
            stop(app)
        check("the app exits cleanly after SIGTERM", app.returncode == 0,
              f"exit {app.returncode}: {app_log.text()[-1500:]}")
    finish()


if __name__ == "__main__":
    sys.exit(main())
