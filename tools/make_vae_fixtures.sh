#!/usr/bin/env bash
# Runs tools/make_vae_fixtures.py (or, with --bench, bench/vae/pytorch_cpu_bench.py) in its virtualenv (build/fixtures-venv, see the script's
# docstring). PyPI's torch links CUDA libraries even on CPU: they come from the nvidia-* wheels in
# the venv and /usr/local/cuda; libcuda.so.1 (the driver) from the toolkit's stub, never called.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/fixtures-venv
site=$(echo $venv/lib/python3*/site-packages)
libs=$(find "$site/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
mkdir -p $venv/stubs
[ -e /usr/local/cuda/lib64/stubs/libcuda.so ] && ln -sf /usr/local/cuda/lib64/stubs/libcuda.so $venv/stubs/libcuda.so.1
export LD_LIBRARY_PATH="${libs}/usr/local/cuda/lib64:$PWD/$venv/stubs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ "${1:-}" = "--bench" ]; then
  shift
  exec $venv/bin/python bench/vae/pytorch_cpu_bench.py "$@"
fi
exec $venv/bin/python tools/make_vae_fixtures.py "$@"
