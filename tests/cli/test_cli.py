#!/usr/bin/env python3
"""Bad configuration through the real binary: each case prints one clear message on stderr that
names the key and value and exits with code 2; the good cases exit 0. Also --version, the keys in
--help, input paths that must exist, --print-config's comments and --list-displays without a
display (exit 1 with a clear message, never a made-up display)."""
import os
import re
import subprocess
import sys
import tempfile

exe = sys.argv[1]
failures = []


def run(args, env_extra=None, env_remove=()):
    env = dict(os.environ)
    home = tempfile.mkdtemp()  # never read the developer's own config, nor write their cache
    for kind in ("CONFIG", "CACHE", "STATE"):
        env[f"XDG_{kind}_HOME"] = os.path.join(home, kind.lower())
    env.update(env_extra or {})
    for name in env_remove:
        env.pop(name, None)
    return subprocess.run([exe] + args, capture_output=True, text=True, timeout=60, env=env)


def expect(name, args, code, *needles, stream="stderr", files=None):
    with tempfile.TemporaryDirectory() as d:
        real_args = []
        for a in args:
            real_args.append(a.replace("{dir}", d))
        for fname, text in (files or {}).items():
            with open(os.path.join(d, fname), "w") as f:
                f.write(text)
        r = run(real_args)
        out = getattr(r, stream)
        ok = r.returncode == code and all(n in out for n in needles)
        if ok and code == 2:
            ok = "Traceback" not in r.stderr and "terminate called" not in r.stderr
        if not ok:
            failures.append(f"{name}: exit {r.returncode} (want {code}); {stream}: {out!r}")
        print(("ok   " if ok else "FAIL ") + name)


expect("unknown key in file", ["--config", "{dir}/c.toml"], 2, "unknown key 'display.gama'",
       "did you mean 'display.gamma'", files={"c.toml": "[display]\ngama = 1.0\n"})
expect("wrong type in file", ["--config", "{dir}/c.toml"], 2, "display.vsync", "true or false",
       files={"c.toml": "[display]\nvsync = \"sometimes\"\n"})
expect("out of range in file", ["--config", "{dir}/c.toml"], 2, "comfy.denoise = 1.5",
       "[0, 1]", files={"c.toml": "[comfy]\ndenoise = 1.5\n"})
expect("unreadable file", ["--config", "{dir}/missing.toml"], 2, "missing.toml", "cannot be read")
expect("malformed file", ["--config", "{dir}/c.toml"], 2, "not valid TOML",
       files={"c.toml": "[display\n"})
expect("out of range flag", ["--display.gamma", "0"], 2, "display.gamma", "[0.2, 5]")
expect("bad choice flag", ["--display.mode", "huge"], 2, "display.mode",
       "one of windowed, borderless, fullscreen")
expect("non-number flag", ["--interpolation.frames_between", "many"], 2,
       "interpolation.frames_between", "'many'")
expect("unknown flag", ["--no-such-flag"], 2, "--no-such-flag")
expect("help lists every table key", ["--help"], 0, "--display.gamma", "--comfy.urls",
       "--injection.cooldown", stream="stdout")
expect("print-config", ["--print-config", "--display.gamma", "2.5"], 0, "[display]",
       "gamma = 2.5", stream="stdout")


# --version and the keys.
r = run(["--version"])
ok = r.returncode == 0 and re.fullmatch(r"dreamwindow \d+\.\d+\.\d+\n", r.stdout) is not None
if not ok:
    failures.append(f"--version: exit {r.returncode}, stdout {r.stdout!r}")
print(("ok   " if ok else "FAIL ") + "--version prints the project version")
expect("help names the keys", ["--help"], 0, "F1 or Tab", "F11", "Esc", stream="stdout")

# Every input path must exist when set: exit 2 naming key and path, from a flag or the file.
expect("missing vae.decoder", ["--vae.decoder", "/nonexistent"], 2, "vae.decoder", "/nonexistent",
       "no such file")
expect("missing vae.encoder", ["--vae.encoder", "{dir}/enc.safetensors"], 2, "vae.encoder",
       "enc.safetensors", "no such file")
expect("vae.decoder is a folder", ["--vae.decoder", "{dir}"], 2, "vae.decoder",
       "a directory, not a file")
expect("missing vae.decoder in file", ["--config", "{dir}/c.toml"], 2, "vae.decoder",
       "/no/such/vae.safetensors", files={"c.toml": "[vae]\ndecoder = \"/no/such/vae.safetensors\"\n"})
expect("source.folder is a file", ["--source.folder", "{dir}/c.toml"], 2, "source.folder",
       "not a directory", files={"c.toml": ""})
# ... except a folder that is not there yet (a USB disk or a share that mounts late): the program
# starts without it and says so; a file there is still refused (waiting cannot mend it).
expect("missing source.folder is accepted", ["--print-config", "--source.folder", "{dir}/seeds"],
       0, "/seeds\"", stream="stdout")
expect("missing prompts.themes_file", ["--prompts.themes_file", "{dir}/themes.toml"], 2,
       "prompts.themes_file", "no such file")
expect("missing comfy.workflow path", ["--comfy.workflow", "{dir}/flow.json"], 2, "comfy.workflow",
       "flow.json", "no such file")
expect("existing paths are fine", ["--print-config", "--vae.decoder", "{dir}/v.safetensors",
                                   "--source.folder", "{dir}"], 0, "decoder = ",
       stream="stdout", files={"v.safetensors": "x"})

# A decoder file that exists but is no VAE: exit 2 naming it, not a silent fall-back to
# crossfades. This one starts the program (headless; SDL's offscreen EGL needs no X server).
probe = run(["--headless", "--frames", "1", "--playback.min_buffer_s", "0"])
if probe.returncode == 0:
    expect("vae.decoder is not a VAE", ["--headless", "--frames", "1", "--vae.decoder",
                                        "{dir}/v.safetensors"], 2, "vae.decoder",
           "v.safetensors", files={"v.safetensors": "not a safetensors file"})
else:
    print(f"skip vae.decoder is not a VAE: no headless GL here (exit {probe.returncode})")

# The overlay test hooks refuse what the panel would refuse.
expect("overlay edit of an unknown key", ["--overlay-edit", "display.gama=2"], 2, "display.gama")
expect("overlay edit out of range", ["--overlay-edit", "display.gamma=9"], 2, "display.gamma",
       "[0.2, 5]")
expect("overlay edit without '='", ["--overlay-edit", "display.gamma"], 2, "KEY=VALUE")

# --print-config: "live"/"restart" is never listed among a key's allowed values.
r = run(["--print-config"])
bad = [line for line in r.stdout.splitlines() if line.startswith("#") and
       re.search(r"\[[^\]]*\b(live|restart)\b[^\]]*\]", line)]
marked = [line for line in r.stdout.splitlines() if line.startswith("#") and "[" in line]
ok = r.returncode == 0 and not bad and marked and all(
    line.endswith("(applies live)") or line.endswith("(applies at restart)") for line in marked)
if not ok:
    failures.append(f"print-config comments: exit {r.returncode}, bad {bad[:3]}")
print(("ok   " if ok else "FAIL ") + "print-config comments keep when a key applies apart from its choices")

# --list-displays with no display: a clear error and exit 1, not SDL's made-up display.
r = run(["--list-displays"], env_remove=("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"))
ok = r.returncode == 1 and ("no display found" in r.stderr or "cannot open a display" in r.stderr) \
    and r.stdout == ""
if not ok:
    failures.append(f"list-displays without display: exit {r.returncode}, stdout {r.stdout!r}, "
                    f"stderr {r.stderr[-300:]!r}")
print(("ok   " if ok else "FAIL ") + "list-displays without a display exits 1 naming the problem")

# The show itself with no display (a service started before the desktop, an X server refusing its
# XAUTHORITY): SDL would fall back to its offscreen driver and every frame would count as shown on
# a screen nobody sees, the service manager told all is well. It exits 1 naming the problem, so
# the service manager starts it again until the display is there.
r = run(["--frames", "5"], env_remove=("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"))
ok = r.returncode == 1 and ("no display found" in r.stderr or "cannot open a display" in r.stderr)
if not ok:
    failures.append(f"show without display: exit {r.returncode}, stderr {r.stderr[-300:]!r}")
print(("ok   " if ok else "FAIL ") + "the show without a display exits 1 instead of drawing offscreen")

if failures:
    print("\n".join(failures), file=sys.stderr)
    print(f"{len(failures)} failed")
    sys.exit(1)
print("all passed")
