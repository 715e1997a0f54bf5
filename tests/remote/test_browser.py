#!/usr/bin/env python3
"""The web remote in a real browser: headless Chromium (Debian's `chromium`) opens the page the
real dreamwindow binary serves (headless, remote on a free port), and through the page itself
the test sees live status arrive, changes a parameter and presses an action; the running app
changed (checked through the API). With the app stopped (SIGSTOP) the page must say it gets no
answer and report what it could not do. DW_REMOTE_SCREENSHOTS=DIR saves the page at 1280 and
390 px. Chromium is driven over the DevTools protocol by chromium_driver.py (a small
WebSocket client written on Python's standard library).

usage: test_browser.py DREAMWINDOW [CHROMIUM]"""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

from chromium_driver import LineReader, Page, api, page_target, start_chromium, stop, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = sys.argv[1]
chromium = sys.argv[2] if len(sys.argv) > 2 else (shutil.which("chromium") or "chromium")


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


def js(value):
    return json.dumps(value)


def row_value(page, key):
    return page.evaluate(f"document.querySelector('.param[data-key={js(key)}] "
                         "input[type=number]').value")


def row_error(page, key):
    return page.evaluate(f"document.querySelector('.param[data-key={js(key)}] .err').textContent")


def type_into(page, key, text, commit=True):
    """Types into a row's number box as a person does: input events, then change (on leaving)."""
    page.evaluate(f"""(() => {{
      const num = document.querySelector('.param[data-key={js(key)}] input[type=number]');
      num.focus();
      num.value = {js(text)};
      num.dispatchEvent(new Event('input'));
      if ({js(commit)}) num.dispatchEvent(new Event('change'));
    }})()""")


def app_value(port, key):
    return api(port, "GET", f"/api/params/{key}")[1]["value"]


def status_updates(page):
    return page.evaluate("document.body ? (+document.body.dataset.statusUpdates || 0) : 0")


def conn(page):
    return page.evaluate("document.getElementById('conn').textContent")


def drive(page, port, app, shots):
    for domain in ("Page", "Network", "Log", "Runtime"):
        page.call(f"{domain}.enable")
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

    first = wait_for(lambda: status_updates(page), 120)
    later = wait_for(lambda: status_updates(page) >= (first or 0) + 2, 120)
    check("live status arrives and keeps arriving", first and later, f"updates {status_updates(page)}")
    presented = page.evaluate(
        "document.querySelector('#status dd[data-path=\"frame.fps\"]').textContent")
    check("status shows the display's numbers", presented not in (None, "", "–"), presented)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    check("the page fits a phone's width (412 px) without sideways scrolling",
          widths and widths[1] <= 500 and widths[0] <= widths[1], widths)
    plotted = page.evaluate("document.getElementById('v-buffer').textContent")
    check("the plots draw the buffer", plotted not in (None, ""), plotted)
    missing = [e["params"]["response"]["url"] for e in page.events
               if e["method"] == "Network.responseReceived"
               and e["params"]["response"]["status"] >= 400]
    check("loading the page asks for nothing the app does not have (no favicon 404)",
          not missing, missing)
    phase(operator_status, page, port)

    # A parameter, through the page's own control, as a person on a phone changes it.
    type_into(page, "display.gamma", "1.6")
    applied = wait_for(lambda: app_value(port, "display.gamma") == 1.6, 60)
    check("changing display.gamma on the page changes the running app", applied,
          api(port, "GET", "/api/params/display.gamma")[1])
    shown = wait_for(lambda: row_value(page, "display.gamma") == "1.6", 60)
    check("the page shows the value the app took", shown)
    type_into(page, "display.gamma", "99")
    error = wait_for(lambda: row_error(page, "display.gamma"), 60)
    check("a value out of range shows the config file's error on the page",
          error and "display.gamma" in error and "[0.2, 5]" in error, error)
    check("the refused value changed nothing", app_value(port, "display.gamma") == 1.6)
    check("after a refusal the box shows the app's value again, the error stays",
          row_value(page, "display.gamma") == "1.6" and row_error(page, "display.gamma") == error,
          [row_value(page, "display.gamma"), row_error(page, "display.gamma")])

    # A cleared box is not 0 (frames_between takes 0, so an empty box sent as 0 would apply).
    before = app_value(port, "interpolation.frames_between")
    type_into(page, "interpolation.frames_between", "")
    invalid = wait_for(lambda: page.evaluate(
        "document.querySelector('.param[data-key=\"interpolation.frames_between\"] "
        "input[type=number]').getAttribute('aria-invalid') === 'true'"), 30)
    check("a cleared number box is shown as invalid", invalid,
          row_error(page, "interpolation.frames_between"))
    check("a cleared number box sends nothing (the app keeps its value)",
          app_value(port, "interpolation.frames_between") == before,
          app_value(port, "interpolation.frames_between"))
    type_into(page, "interpolation.frames_between", str(before))
    wait_for(lambda: row_value(page, "interpolation.frames_between") == str(before)
             and not row_error(page, "interpolation.frames_between"), 30)

    # A restart row is shown as pending.
    type_into(page, "display.width", "400")
    pending = wait_for(lambda: page.evaluate(
        "!!document.querySelector('.param[data-key=\"display.width\"] .badge.pending')"), 60)
    check("a restart parameter shows 'after restart'", pending)

    phase(sliders, page)
    phase(lists, page, port)
    phase(refreshes, page, port)
    phase(press_action, page, port, app)
    phase(stalled_app, page, port, app)
    phase(layout, page, shots)
    errors = [e["params"].get("entry", e["params"].get("exceptionDetails")) for e in page.events
              if e["method"] == "Runtime.exceptionThrown" or (
                  e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
                  and e["params"]["entry"]["source"] != "network")]  # a refused PUT is a 400
    check("the page's console shows no errors (scripts, content security policy)", not errors,
          errors)


def phase(steps, *args):
    """Runs a group of checks; a page script that fails there (an older page without the
    element) fails the group and the next group still runs."""
    try:
        steps(*args)
    except RuntimeError as e:
        check(f"{steps.__name__}: the page's script ran", False, str(e)[:300])


def operator_status(page, port):
    """What an operator looks for first: recording, source, problems, a readable uptime. The app
    runs with a source.folder that is not there (a disk not mounted yet): one problem, which the
    page lists as the app words it (status.json's problems, the overlay's list)."""
    text = lambda path: page.evaluate(
        f"(document.querySelector('#status dd[data-path={js(path)}]') || {{}}).textContent")
    check("status says whether it records", text("recording.on") == "off", text("recording.on"))
    check("status names the source", text("generation.source") == "offline",
          text("generation.source"))
    listed = lambda: page.evaluate("[...document.querySelectorAll('#problems li')]"
                                   ".map(l => l.textContent)")
    app_problems = api(port, "GET", "/api/status")[1].get("problems")
    check("the app's status names the missing source.folder as its one problem",
          isinstance(app_problems, list) and len(app_problems) == 1 and
          "source.folder" in app_problems[0] and "no such folder" in app_problems[0], app_problems)
    check("the page lists the app's problems in the app's words",
          wait_for(lambda: listed() == app_problems, 30), [listed(), app_problems])
    uptime = text("uptime_s")
    check("uptime reads as a duration", re.fullmatch(r"\d+ (s|min \d+ s)", uptime or "")
          is not None, uptime)


def sliders(page):
    """Sliders start at the value, step in round numbers, and a wide range is logarithmic."""
    slider = lambda key, expr: page.evaluate(
        f"(() => {{ const r = document.querySelector('.param[data-key={js(key)}] "
        f"input[type=range]'); return {expr}; }})()")
    move = lambda key, to: page.evaluate(
        f"(() => {{ const row = document.querySelector('.param[data-key={js(key)}]'); "
        "const r = row.querySelector('input[type=range]'); "
        f"r.value = {to}; r.dispatchEvent(new Event('input')); "
        "return row.querySelector('input[type=number]').value; })()")
    # display.gamma [0.2, 5], value 1.6: the thumb's value is the value, one notch is round.
    at = move("display.gamma", "r.value")
    check("a slider starts at the app's value", at == "1.6", at)
    up = move("display.gamma", "+r.value + 1")
    check("one notch of a float slider is a round value", up == "1.62", up)
    frac = slider("comfy.stall_timeout_s", "(r.value - r.min) / (r.max - r.min)")
    check("a slider over [1, 86400] is logarithmic (120 s sits well inside it)",
          frac is not None and 0.3 < frac < 0.6, frac)
    mid = move("comfy.stall_timeout_s", "(+r.min + +r.max) / 2")
    check("the middle of [1, 86400] is a round value near 294",
          mid and 200 <= float(mid) <= 400 and re.fullmatch(r"[1-9]\d0", mid), mid)
    ints = [move("comfy.steps", f"{i}") for i in range(0, 5)]
    check("an int slider steps by whole numbers", ints == ["1", "2", "3", "4", "5"], ints)
    # Put the rows back as they were (nothing was sent: no change event).
    page.evaluate("(() => { for (const k of ['display.gamma', 'comfy.stall_timeout_s', "
                  "'comfy.steps']) { const n = document.querySelector("
                  "'.param[data-key=\"' + k + '\"] input[type=number]'); "
                  "n.value = n.defaultValue; n.dispatchEvent(new Event('input')); } })()")


def lists(page, port):
    """A list is edited one item per line, and an item may hold commas: a date with two opening
    ranges (a page that split the text at commas made three items, and the app refused them)."""
    dates = ["2026-12-24=10:00-12:00, 14:00-16:00", "2026-12-25=closed"]
    page.evaluate(f"""(() => {{
      const box = document.querySelector('.param[data-key="schedule.dates"] textarea');
      box.value = {js(chr(10).join(dates))};
      box.dispatchEvent(new Event('change'));
    }})()""")
    taken = wait_for(lambda: app_value(port, "schedule.dates") == dates, 30)
    check("a list typed one item per line reaches the app item by item, commas and all", taken,
          [app_value(port, "schedule.dates"), row_error(page, "schedule.dates")])
    shown = wait_for(lambda: page.evaluate(
        "document.querySelector('.param[data-key=\"schedule.dates\"] textarea').value")
        == chr(10).join(dates), 30)
    check("the page shows the list the app took, one item per line", shown)


def refreshes(page, port):
    """Edits made elsewhere (OSC, the overlay, another browser) reach the page with the next
    status, whose control.config_version moved on; a box being typed into is left alone; while
    nothing changes the page fetches no parameter list."""
    api(port, "PUT", "/api/params/display.brightness", {"value": 1.3})
    shown = wait_for(lambda: row_value(page, "display.brightness") == "1.3", 60)
    check("a value changed elsewhere shows up on the page", shown,
          row_value(page, "display.brightness"))
    # The page read its list just now: a page that polled it every 5 s would show the next
    # change about 5 s later; one that follows the version shows it with the next status (every
    # second) and the list's fetch.
    api(port, "PUT", "/api/params/display.brightness", {"value": 0.8})
    asked = time.monotonic()
    quick = wait_for(lambda: row_value(page, "display.brightness") == "0.8", 2.5, interval=0.05)
    check("a change made elsewhere shows within 2.5 s", quick,
          f"{row_value(page, 'display.brightness')} after {time.monotonic() - asked:.2f} s")

    type_into(page, "display.gamma", "2.2", commit=False)
    api(port, "PUT", "/api/params/display.gamma", {"value": 1.9})
    version = api(port, "GET", "/api/status")[1]["control"]["config_version"]
    list_version = lambda: page.evaluate("+(document.body.dataset.paramsVersion ?? -1)")
    read = wait_for(lambda: list_version() >= version, 60)
    check("a refresh leaves a box being typed into alone",
          read and row_value(page, "display.gamma") == "2.2",
          [list_version(), version, row_value(page, "display.gamma")])
    page.evaluate("(() => { const n = document.querySelector("
                  "'.param[data-key=\"display.gamma\"] input[type=number]'); "
                  "n.value = n.defaultValue; n.blur(); })()")
    check("once left, it shows the app's value",
          wait_for(lambda: row_value(page, "display.gamma") == "1.9", 60),
          row_value(page, "display.gamma"))

    # Six statuses with nothing changed: a page polling the list every 5 s would fetch it.
    lists = lambda: sum(1 for e in page.events if e["method"] == "Network.requestWillBeSent"
                        and urllib.parse.urlsplit(e["params"]["request"]["url"]).path
                        == "/api/params")
    fetched, seen = lists(), status_updates(page)
    quiet = wait_for(lambda: status_updates(page) >= seen + 6, 60)
    check("while nothing changes the page fetches no parameter list",
          quiet and lists() == fetched and fetched > 0,
          f"{lists() - fetched} fetches over {status_updates(page) - seen} statuses")


def press_action(page, port, app):
    actions = [a["name"] for a in api(port, "GET", "/api/actions")[1]["actions"]]
    buttons = page.evaluate("[...document.querySelectorAll('button[data-action]')]"
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
        .startswith("paused"), 60)
    check("the page's status shows it paused", shown)
    pressed = lambda name: page.evaluate(
        f"document.querySelector('#actions button[data-action={js(name)}]')"
        ".getAttribute('aria-pressed')")
    check("the pause button shows that generation is paused",
          wait_for(lambda: pressed("pause") == "true", 30), pressed("pause"))
    page.evaluate("document.querySelector('#actions button[data-action=\"resume\"]').click()")
    check("after resume it no longer does", wait_for(lambda: not paused()
                                                     and pressed("pause") == "false", 60),
          pressed("pause"))

    check("quit is not among the ordinary buttons", page.evaluate(
        "!document.querySelector('#actions button[data-action=\"quit\"]')"))
    page.evaluate("document.querySelector('button[data-action=\"quit\"]').click()")
    asked = wait_for(lambda: page.evaluate(
        "!!document.getElementById('quit-confirm') && "
        "!document.getElementById('quit-confirm').hidden"), 10)
    seen = status_updates(page)
    wait_for(lambda: status_updates(page) >= seen + 2 or app.poll() is not None, 60)
    check("pressing quit asks first and quits nothing", asked and app.poll() is None
          and api(port, "GET", "/api/status")[0] == 200)
    if app.poll() is None and asked:
        page.evaluate("document.getElementById('quit-cancel').click()")


def stalled_app(page, port, app):
    """The app stops answering (SIGSTOP: a hung process, a stalled link): the page says so,
    and what is pressed or edited meanwhile shows an error, not success."""
    gamma = app_value(port, "display.gamma")
    app.send_signal(signal.SIGSTOP)
    try:
        stale = wait_for(lambda: page.evaluate(
            "document.getElementById('conn').dataset.state === 'stale' && "
            "/no answer for \\d+ s/.test(document.getElementById('conn').textContent)"), 30)
        check("a hung app is shown as 'no answer for N s', not live", stale, conn(page))
        page.evaluate("document.querySelector('#actions button[data-action=\"next_theme\"]')"
                      ".click()")
        message = wait_for(lambda: page.evaluate(
            "document.getElementById('message').className === 'bad' && "
            "document.getElementById('message').textContent"), 30)
        check("an action the app does not answer shows an error beside the buttons",
              message and "next theme" in message and "no answer" in message, message)
        type_into(page, "display.gamma", "2.5")
        error = wait_for(lambda: "no answer" in (row_error(page, "display.gamma") or ""), 30)
        check("an edit the app does not answer shows an error and the app's last value",
              error and row_value(page, "display.gamma") == str(gamma),
              [row_error(page, "display.gamma"), row_value(page, "display.gamma")])
        keyframe_rate(page)
    finally:
        app.send_signal(signal.SIGCONT)
    live = wait_for(lambda: page.evaluate(
        "document.getElementById('conn').dataset.state === 'live'"), 60)
    check("when the app answers again the page is live again", live, conn(page))
    check("and it streams events again (not only polls)",
          wait_for(lambda: conn(page) == "live", 30), conn(page))
    # The edit may have reached the app after all (it sat in the socket): the page says which.
    agree = wait_for(lambda: row_value(page, "display.gamma") == str(app_value(port,
                                                                               "display.gamma")), 60)
    check("after it answers the page shows the value the app holds", agree,
          [row_value(page, "display.gamma"), app_value(port, "display.gamma")])


def keyframe_rate(page):
    """One keyframe every 5 s of the app's clock is 12 per minute, every sample, not 0 with
    spikes; and the status card reads it as an operator would. Fed as statuses (the app is
    stopped meanwhile, so nothing else arrives)."""
    values = page.evaluate("""(() => {
      const out = [];
      for (let t = 0; t <= 120; t++) {
        showStatus({uptime_s: 12300 + t + 45, generation: {keyframes: 500 + Math.floor(t / 5),
                    source: "comfy", servers: [{url: "http://gpu:8188", healthy: false,
                    last_error: "connection refused"}]},
                    recording: {on: true, file: "/rec/a.mp4", frames_written: 1200},
                    folder: {path: "/media/usb/show", problem: "no such folder; showing the " +
                             "default seed images until it has images", unreadable: 2},
                    workers: [{name: "cache", state: "failed", errors: 2,
                               last_error: "disk full"}]});
        out.push(document.getElementById('v-keys').textContent);
      }
      return out;
    })()""")
    late = [float(v) for v in values[70:] if re.fullmatch(r"[\d.]+", v or "")]
    check("keyframes per minute is 12 over a sliding window, not 0 with spikes",
          len(late) == len(values[70:]) and all(11 <= v <= 13.5 for v in late), values[60:])
    text = lambda path: page.evaluate(
        f"(document.querySelector('#status dd[data-path={js(path)}]') || {{}}).textContent")
    check("uptime reads '3 h 27 min'", text("uptime_s") == "3 h 27 min", text("uptime_s"))
    check("recording shows its file", "/rec/a.mp4" in (text("recording.on") or ""),
          text("recording.on"))
    listed = lambda problems: page.evaluate(f"""(() => {{
      showStatus(Object.assign({{}}, state.status, {{problems: {js(problems)}}}));
      return [...document.querySelectorAll('#problems li')].map(l => l.textContent);
    }})()""")
    two = ["worker cache: failed, 2 errors - disk full",
           "ComfyUI http://gpu:8188: not healthy - connection refused"]
    check("the problems list shows status's problems, in order", listed(two) == two, listed(two))
    check("with none left it says there are none", listed([]) == ["no errors reported"], listed([]))
    check("the source shows ComfyUI's health", "0 of 1" in (text("generation.source") or ""),
          text("generation.source"))


def layout(page, shots):
    """1280 px: the status and plots fill the width (no empty third column); 390 px: nothing
    scrolls sideways and the address is not broken inside a number."""
    for width in (1280, 390):
        page.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500})
        wait_for(lambda: page.evaluate("window.innerWidth") == width, 10)
        box = page.evaluate("""(() => {
          const main = document.querySelector('main').getBoundingClientRect();
          const pad = parseFloat(getComputedStyle(document.querySelector('main')).paddingRight);
          const right = Math.max(...['status-card', 'plots-card'].map(
            (id) => document.getElementById(id).getBoundingClientRect().right));
          const url = document.querySelector('#status dd[data-path="remote.url"]');
          const line = parseFloat(getComputedStyle(url).lineHeight);
          return {gap: main.right - pad - right, urlLines: Math.round(url.getBoundingClientRect()
                  .height / line), scroll: document.documentElement.scrollWidth};
        })()""")
        check(f"at {width} px the cards fill the row", abs(box["gap"]) < 2, box)
        check(f"at {width} px the remote's address is on one line and nothing scrolls sideways",
              box["urlLines"] == 1 and box["scroll"] <= width, box)
        if shots:
            page.evaluate("document.activeElement && document.activeElement.blur(), "
                          "window.scrollTo(0, 0)")
            shot = page.call("Page.captureScreenshot", {"captureBeyondViewport": True,
                                                        "clip": {"x": 0, "y": 0, "width": width,
                                                                 "height": 1400, "scale": 1}})
            with open(os.path.join(shots, f"remote_{width}.png"), "wb") as f:
                f.write(base64.b64decode(shot["data"]))
    page.call("Emulation.clearDeviceMetricsOverride")


def token_phase(d, devtools_port):
    """Off loopback: the app makes its token (0600), says so, refuses requests without it, and
    the page opened with #token=... works; a wrong token is called wrong, and the page says
    where the token is."""
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

        page.call("Page.navigate", {"url": f"http://127.0.0.1:{port}/?again#token=not-{token}"})
        wrong = wait_for(lambda: page.evaluate(
            "location.search === '?again' && /token/.test(document.getElementById('conn')"
            ".textContent) && document.getElementById('conn').textContent"), 60)
        check("a wrong token is called a wrong token", wrong == "wrong token", wrong)
        hint = page.evaluate("document.getElementById('tokenbox').textContent")
        check("the page says where the token is", "remote_token" in (hint or ""), hint)
        page.evaluate(f"""(() => {{
          document.getElementById('token').value = {js(token)};
          document.getElementById('tokenbox').requestSubmit();
        }})()""")
        live = wait_for(lambda: page.evaluate(
            "document.getElementById('conn').textContent.startsWith('live')"), 60)
        check("the right token typed into the page makes it live", live, conn(page))
    finally:
        stop(app)


def main():
    if not shutil.which(chromium) and not os.path.exists(chromium):
        print(f"FAIL chromium not found ({chromium}); scripts/setup.sh installs it")
        return 1
    with tempfile.TemporaryDirectory() as d:
        # A source.folder on a disk not mounted yet: the one problem the page must list.
        app, app_log = start_app(d, ["--source.folder", os.path.join(d, "usb", "show")])
        browser, browser_log = start_chromium(d, chromium)
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
            drive(Page(ws_url), port, app, os.environ.get("DW_REMOTE_SCREENSHOTS"))
            token_phase(d, int(devtools.group(1)))
        finally:
            stop(browser)
            stop(app)
        check("the app exits cleanly after SIGTERM", app.returncode == 0,
              f"exit {app.returncode}: {app_log.text()[-1500:]}")
    finish()


if __name__ == "__main__":
    sys.exit(main())
