#!/usr/bin/env bash
# Builds (once) and prints the path of the Python venv that runs the real ComfyUI test server
# (../shared/comfyui). The venv lives outside the checkout, under
# ${XDG_CACHE_HOME:-~/.cache}/dreamwindow/comfyui-venv-<hash of tools/comfyui_requirements.txt>,
# because CI clones afresh each run. A cached venv answers at once; a fresh build downloads torch
# and friends from PyPI (~3 GB download, ~7 GB on disk, 7-11 min on the 2-core machine).
# Output: the venv's directory on stdout (last line); progress on stderr. Exit 1 with a clear
# message when PyPI cannot be reached or an install fails.
#   tools/comfyui_env.sh          build if needed, print the venv
#   tools/comfyui_env.sh --check  print the venv if it is built, else exit 3 (builds nothing)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/comfyui_requirements.txt"
python="${DREAMWINDOW_PYTHON:-python3}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/dreamwindow"
key="$( (cat "$req"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
venv="$cache/comfyui-venv-$key"

if [[ -f "$venv/.complete" ]]; then
  echo "$venv"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "comfyui_env: no venv built yet at $venv (run tools/comfyui_env.sh)" >&2
  exit 3
fi

mkdir -p "$cache"
exec 9>"$cache/comfyui-venv.lock"
echo "comfyui_env: waiting for the venv lock ($cache/comfyui-venv.lock)" >&2
flock 9
if [[ -f "$venv/.complete" ]]; then   # another process built it while we waited
  echo "$venv"
  exit 0
fi

probe="$(mktemp -d)"
if ! "$python" -m pip download --no-deps --no-cache-dir -q -d "$probe" tqdm==4.67.1 \
  >/dev/null 2>&1; then
  rm -rf "$probe"
  echo "comfyui_env: ERROR: cannot reach PyPI (pip download of a small package failed);" \
    "the real-ComfyUI venv cannot be built. Check the network/pip configuration, or build it" \
    "where PyPI is reachable and copy $cache." >&2
  exit 1
fi
rm -rf "$probe"

build="$venv.building.$$"
rm -rf "$build"
trap 'rm -rf "$build"' EXIT
echo "comfyui_env: building $venv (several GB from PyPI; 7-11 min on 2 cores)" >&2
start=$SECONDS
"$python" -m venv "$build"
"$build/bin/python" -m pip install -q --upgrade pip >&2
if ! "$build/bin/python" -m pip install --no-cache-dir -r "$req" >&2; then
  echo "comfyui_env: ERROR: pip install -r $req failed (see above)" >&2
  exit 1
fi
rm -rf "$venv"
mv "$build" "$venv"
trap - EXIT
# Shebangs and activate scripts still name the build dir; everything here runs bin/python, which
# finds its venv from pyvenv.cfg beside it, so the move is safe for that.
"$venv/bin/python" -c 'import torch, aiohttp, safetensors, diffusers, transformers' >&2
touch "$venv/.complete"
echo "comfyui_env: built in $((SECONDS - start)) s" >&2
echo "$venv"
