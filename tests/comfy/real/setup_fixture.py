#!/usr/bin/env python3
"""CTest fixtures of the realcomfy tests: `env` builds (once; cached outside the checkout) the
ComfyUI venv, `checkpoint` the random-weight SD1.5 checkpoint. Skipped (77) where the ComfyUI
source is absent outside CI, as the tests are; a failure names the tool and its error."""
import os
import subprocess
import sys
import time

import realcomfy as rc

what = sys.argv[1]
src = rc.comfyui_server.comfy_dir()
if not os.path.isfile(os.path.join(src, "main.py")):
    if os.environ.get("CI", "").lower() == "true":
        rc.fail(f"CI=true but no ComfyUI source at {src}")
    print(f"skipped: no ComfyUI source at {src}")
    sys.exit(rc.SKIP)
tool = {"env": ["bash", os.path.join(rc.REPO, "tools", "comfyui_env.sh")],
        "checkpoint": [sys.executable, os.path.join(rc.REPO, "tools", "comfyui_checkpoint.py")]}[what]
start = time.monotonic()
r = subprocess.run(tool)
if r.returncode != 0:
    rc.fail(f"{' '.join(tool)} failed with exit {r.returncode} (its message is above)")
print(f"{what} ready in {time.monotonic() - start:.0f} s")
