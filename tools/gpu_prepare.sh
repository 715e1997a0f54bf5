#!/usr/bin/env bash
# Runs HERE (the build machine, no GPU needed): builds the cuda preset (sm_90 SASS + PTX) and packs
# into .device/ what tools/gpu_check.sh needs on a GPU machine that has the NVIDIA driver, CUDA,
# cuDNN and cuBLAS (pip), PyTorch, compute-sanitizer and nvidia-smi, but none of our Debian
# packages and no X server:
#   .device/payload.tar.gz  bin/    the GPU tests, the CUDA-GL interop test, the GPU bench and the
#                                   app itself (host debug info stripped)
#                           (the app built with DW_WITH_VIDEO=OFF in build/device: no FFmpeg)
#                           lib/    the non-system, non-CUDA shared libraries they load (from
#                                   ldd), plus the vendor-neutral GL loaders (libglvnd: libEGL,
#                                   libGL, libOpenGL, libGLX, libGLdispatch) that SDL and epoxy
#                                   open at run time; the NVIDIA driver supplies its EGL vendor
#                                   library there
#                           models/ the real taef2 weights from ../shared/models
# The fixtures, shaders, workflows and seed images travel with the repository itself; the random
# SD-KL and taesd weights are written there by bench_vae_gpu. PyTorch is the device machine's own
# (its image has torch, aiohttp, numpy and Pillow): nothing Python travels.
# Then, on the device machine, carry .device and run: OUT=$OUT bash tools/gpu_check.sh [steps...]
# Here, `tools/gpu_check.sh --dry-run` runs every part that needs no GPU against the same payload.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
models=${DW_SHARED_MODELS:-$root/../shared/models}
limit_mib=${DW_DEVICE_LIMIT_MIB:-50}  # the device tool carries 64 MiB in all, the repo included

cmake --preset cuda >/dev/null
cmake --build --preset cuda -j2
# The tests' listing step ran at build time; the binaries are what travels.
# The app travels without FFmpeg's codec libraries (DW_WITH_VIDEO=OFF: about 100 MiB of them, the
# payload's limit is 50): the GPU check never records. Same compiler flags, so ccache serves most.
cmake --preset cuda -B build/device -DDW_WITH_VIDEO=OFF -DDW_BUILD_TESTS=OFF \
  -DDW_BUILD_BENCH=OFF >/dev/null
cmake --build build/device -j2 --target dreamwindow

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/models"
for target in cuda/tests/gpu/test_vae_gpu cuda/tests/render/test_render_cuda_interop \
  cuda/bench/gpu/bench_vae_gpu device/dreamwindow; do
  cp "build/$target" "$stage/bin/"
  strip --strip-debug "$stage/bin/$(basename "$target")"
done

# Shared libraries: everything ldd resolves except glibc's own (a newer glibc there must not meet
# pieces of this one), the compiler runtime, CUDA's and the GPU driver's (the driver, cuBLAS and
# cuDNN come from the device machine).
for bin in "$stage"/bin/*; do
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so* | libm.so* | libstdc++.so* | libgcc_s.so* | ld-linux* | libpthread.so* | libdl.so* | \
      librt.so* | libresolv.so* | libnsl.so* | libnss_* | libutil.so* | libanl.so* | libmvec.so* | \
      libcuda.so* | libcudart* | libcublas* | libcudnn* | libnvidia* | libnvrtc* | libnvJitLink*) ;;
    *) cp -L "$lib" "$stage/lib/" ;;
  esac
done
# The GL loaders SDL's offscreen (EGL) driver and epoxy dlopen: vendor-neutral libglvnd, which
# picks the NVIDIA driver's vendor library on the device machine (never Mesa's: not packed).
cache=$(ldconfig -p) # read whole: awk leaving early would break the pipe (pipefail)
for lib in libEGL.so.1 libGL.so.1 libOpenGL.so.0 libGLX.so.0 libGLdispatch.so.0; do
  path=$(awk -v n="$lib" '$1 == n && /x86-64/ {print $NF; exit}' <<<"$cache")
  if [[ -n $path ]]; then cp -L "$path" "$stage/lib/"; else echo "warning: $lib not found here"; fi
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
tracked=$( (git ls-files -z | du -cm --files0-from=- 2>/dev/null || true) | tail -1 | cut -f1)
echo ".device: ${size} MiB (the repository's tracked files: ${tracked} MiB; 64 MiB travel in all)"
if ((size > limit_mib)); then
  echo "error: .device is over ${limit_mib} MiB" >&2
  exit 1
fi
