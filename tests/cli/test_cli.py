#!/usr/bin/env python3
"""Bad configuration through the real binary: each case prints one clear message on stderr that
names the key and value and exits with code 2; the good cases exit 0."""
import os
import subprocess
import sys
import tempfile

exe = sys.argv[1]
failures = []


def run(args, env_extra=None):
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = tempfile.mkdtemp()  # never read the developer's own config
    env.update(env_extra or {})
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

if failures:
    print("\n".join(failures), file=sys.stderr)
    print(f"{11 - len(failures)} passed, {len(failures)} failed")
    sys.exit(1)
print("11 passed, 0 failed")
