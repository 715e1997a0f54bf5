#!/usr/bin/env bash
# One-shot set-up for a fresh Debian 12 machine: installs every system package dreamwindow needs,
# configures and builds it, then runs the program on its embedded default (no server, no GPU).
# Idempotent: running it again only rebuilds what changed.
#   scripts/setup.sh            install, build, run
#   scripts/setup.sh --no-run   install and build only (CI uses this)
set -euo pipefail
cd "$(dirname "$0")/.."

run_after_build=1
for arg in "$@"; do
  case "$arg" in
    --no-run) run_after_build=0 ;;
    *) echo "setup.sh: unknown option '$arg' (known: --no-run)" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libsdl2-dev libgl-dev libegl-dev libopengl-dev libepoxy-dev mesa-utils libgl1-mesa-dri
  libegl-mesa0
  libimgui-dev libstb-dev
  libcurl4-openssl-dev libssl-dev libpng-dev zlib1g-dev libdeflate-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libopenblas-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format
  xvfb xauth xdotool
  xserver-xorg-core xserver-xorg-video-dummy x11-xserver-utils
  python3 python3-aiohttp python3-numpy python3-pil python3-venv python3-pip
  libcpp-httplib-dev liblo-dev liblo-tools libsystemd-dev chromium
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev ffmpeg
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all system packages present"
fi

source scripts/lib/cuda.sh
preset=$(dw_build_preset)
echo "setup.sh: configuring with preset '$preset'"
cmake --preset "$preset"
cmake --build --preset "$preset"

if [ "$run_after_build" -eq 1 ]; then
  exe="build/$preset/dreamwindow"
  if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    echo "setup.sh: starting dreamwindow (F1 toggles the overlay, Esc quits)"
    exec "$exe"
  else
    echo "setup.sh: no display found; running headless under Xvfb for 300 frames."
    echo "          On a machine with a display run: $exe"
    echo "          Headless by hand: xvfb-run -a $exe --headless --frames 600 --screenshot shot.png"
    exec xvfb-run -a -s "-screen 0 1280x720x24" "$exe" --headless --frames 300 --screenshot build/$preset/setup-shot.png
  fi
fi
