#!/usr/bin/env bash
# Runs HERE (the build machine, no GPU needed): builds the cuda preset (sm_90 SASS + PTX) and packs
# into .device/ what tools/gpu_check.sh needs on a GPU machine that has CUDA, cuDNN (pip), PyTorch
# and compute-sanitizer but none of our Debian dev packages:
#   .device/payload.tar.gz  bin/ (GPU tests, CUDA-GL interop test, GPU bench; host debug stripped),
#                           lib/ (the non-system, non-CUDA shared libraries they load, from ldd),
#                           models/ (the real taef2 weights from ../shared/models)
# The fixtures in tests/fixtures travel with the repository itself.
# Then, on the device machine, carry .device and run: tools/gpu_check.sh [tests|memcheck|bench|torch]...
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
models=${DW_SHARED_MODELS:-$root/../shared/models}

cmake --preset cuda >/dev/null
cmake --build --preset cuda -j2
# The tests' listing step ran at build time; the binaries are what travels.

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/models"
for target in tests/gpu/test_vae_gpu tests/render/test_render_cuda_interop bench/gpu/bench_vae_gpu; do
  cp "build/cuda/$target" "$stage/bin/"
  strip --strip-debug "$stage/bin/$(basename "$target")"
done

# Shared libraries: everything ldd resolves except glibc, the compiler runtime and CUDA's own
# (the driver, cuBLAS and cuDNN come from the device machine).
for bin in "$stage"/bin/*; do
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so* | libm.so* | libstdc++.so* | libgcc_s.so* | ld-linux* | libpthread.so* | libdl.so* | \
      librt.so* | libcuda.so* | libcudart* | libcublas* | libcudnn* | libnvidia* | libnvrtc* | \
      libnvJitLink*) ;;
    *) cp -L "$lib" "$stage/lib/" ;;
  esac
done

for f in taef2_decoder.safetensors taef2_encoder.safetensors; do
  if [[ -f "$models/$f" ]]; then cp "$models/$f" "$stage/models/"; else echo "warning: $models/$f absent"; fi
done

rm -rf .device
mkdir -p .device
tar -C "$stage" -czf .device/payload.tar.gz bin lib models
{
  echo "built $(date -u +%FT%TZ) from $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
  (cd "$stage" && find . -type f -printf '%P %s\n' | sort)
} >.device/MANIFEST
cat .device/MANIFEST
size=$(du -sm .device | cut -f1)
echo ".device: ${size} MiB"
if ((size > 40)); then
  echo "error: .device is over 40 MiB" >&2
  exit 1
fi
