#!/usr/bin/env python3
"""dreamwindow --install-service with a scratch HOME and XDG_CONFIG_HOME: it writes the user unit
with this binary's absolute path, the config file and the given settings; systemd-analyze verify
accepts it (when systemd-analyze is installed); with systemctl --user out of reach (no user bus)
or no systemctl at all it still exits 0 and says what to run. Never touches a real user manager:
XDG_RUNTIME_DIR points at an empty scratch directory and the session bus address is unset."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, finish  # noqa: E402

exe = os.path.abspath(sys.argv[1])
repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def scratch_env(d, path=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "XDG_CONFIG_HOME", "WAYLAND_DISPLAY",
                        "XAUTHORITY")}
    env["HOME"] = os.path.join(d, "home")
    env["XDG_CONFIG_HOME"] = os.path.join(d, "home", "config dir")
    env["XDG_RUNTIME_DIR"] = os.path.join(d, "runtime")
    env["DISPLAY"] = ":7"
    env["XAUTHORITY"] = os.path.join(d, "xauth_Rand0m")  # named anew at each login
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
    if path is not None:
        env["PATH"] = path
    return env


with tempfile.TemporaryDirectory() as d:
    env = scratch_env(d)
    config = os.path.join(d, "my config.toml")
    with open(config, "w") as f:
        f.write("[display]\nmode = \"borderless\"\n")
    r = subprocess.run([exe, "--install-service", "--config", config, "--playback.target_buffer_s",
                        "12"], env=env, capture_output=True, text=True, timeout=60)
    unit_path = os.path.join(env["XDG_CONFIG_HOME"], "systemd", "user", "dreamwindow.service")
    check("exit 0 with systemctl --user out of reach", r.returncode == 0,
          f"exit {r.returncode}: {r.stdout}{r.stderr}")
    check("the message says where the unit went and the one-liner to enable it",
          unit_path in r.stdout and "systemctl --user enable --now dreamwindow" in r.stdout,
          r.stdout)
    unit = open(unit_path).read() if os.path.exists(unit_path) else ""
    check("the unit file is written", bool(unit), unit_path)
    exec_line = next((line for line in unit.splitlines() if line.startswith("ExecStart=")), "")
    check("ExecStart names this binary, the config file and the settings",
          exec_line == f'ExecStart={exe} --config "{config}" --playback.target_buffer_s 12',
          exec_line)
    for key in ("Type=notify", "NotifyAccess=main", "WatchdogSec=30", "Restart=always",
                "RestartSec=", "Environment=DISPLAY=:7"):
        check(f"the unit has {key}", any(line.startswith(key) for line in unit.splitlines()), unit)
    check("the unit does not hold this login's XAUTHORITY (the next login's file is another)",
          "XAUTHORITY" not in "\n".join(l for l in unit.splitlines() if not l.startswith("#")),
          unit)
    analyze = shutil.which("systemd-analyze")
    if analyze:
        v = subprocess.run([analyze, "verify", unit_path], env=env, capture_output=True,
                           text=True, timeout=60)
        check("systemd-analyze verify accepts the unit", v.returncode == 0 and not v.stderr.strip(),
              f"exit {v.returncode}: {v.stderr}")
        v = subprocess.run([analyze, "verify", os.path.join(repo, "dist", "dreamwindow.service")],
                           env=env, capture_output=True, text=True, timeout=60)
        check("the shipped unit parses (only its example ExecStart path is missing here)",
              all("not executable" in line or not line.strip() for line in v.stderr.splitlines()),
              v.stderr)
    else:
        print("skip systemd-analyze verify: systemd-analyze is not installed")

    # No systemctl at all: still exit 0, and the one-liner is printed.
    env = scratch_env(os.path.join(d, "second"), path=os.path.join(d, "empty-bin"))
    r = subprocess.run([exe, "--install-service"], env=env, capture_output=True, text=True,
                       timeout=60)
    check("without systemctl: exit 0 and the one-liner",
          r.returncode == 0 and "systemctl --user daemon-reload" in r.stdout,
          f"exit {r.returncode}: {r.stdout}{r.stderr}")
    # No config file: the default display mode is a window, but an installation shows full-screen.
    unit_path = os.path.join(env["XDG_CONFIG_HOME"], "systemd", "user", "dreamwindow.service")
    unit = open(unit_path).read() if os.path.exists(unit_path) else ""
    exec_line = next((line for line in unit.splitlines() if line.startswith("ExecStart=")), "")
    check("with the default (windowed) mode the service runs --fullscreen",
          exec_line == f"ExecStart={exe} --fullscreen" and "full-screen" in r.stdout,
          f"{exec_line}\n{r.stdout}")
    env = scratch_env(os.path.join(d, "third"), path=os.path.join(d, "empty-bin"))
    r = subprocess.run([exe, "--install-service", "--display.mode", "windowed"], env=env,
                       capture_output=True, text=True, timeout=60)
    unit_path = os.path.join(env["XDG_CONFIG_HOME"], "systemd", "user", "dreamwindow.service")
    unit = open(unit_path).read() if os.path.exists(unit_path) else ""
    exec_line = next((line for line in unit.splitlines() if line.startswith("ExecStart=")), "")
    check("a mode named on the install command line is kept",
          exec_line == f"ExecStart={exe} --display.mode windowed", exec_line)

finish()
