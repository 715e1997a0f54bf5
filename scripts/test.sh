#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   0. clang-format: every tracked C++/CUDA source outside third_party is formatted, and none is
#      over 600 lines;
#   1. the normal build (cuda preset where nvcc and cuDNN exist, else cpu): every test; GPU tests
#      report SKIPPED without a device;
#   2. the asan preset (AddressSanitizer + UBSan): every test except gpu;
#   3. the tsan preset (ThreadSanitizer): the tests labelled concurrency (the output threads' GL
#      test among them, under the same display);
#   4. the fuzz preset (clang + libFuzzer + ASan): each harness for a short, bounded run;
#   5. the real ComfyUI (label realcomfy, tests/comfy/real): its venv and a random-weight SD1.5
#      checkpoint are built once and cached under ${XDG_CACHE_HOME:-~/.cache}/dreamwindow/ (first
#      run ~15 min and ~11 GB from PyPI; then the cases alone, ~9-13 min on the 2-core machine).
#      Skipped only where ../shared/comfyui is absent and CI is not set.
# Render tests need an X server: without $DISPLAY the suite runs under xvfb-run.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    steps 0 and 1 only
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)

source scripts/lib/cuda.sh
preset=$(dw_build_preset)

with_display() {
  if [ -n "${DISPLAY:-}" ]; then "$@"; else xvfb-run -a -s "-screen 0 1280x720x24" "$@"; fi
}

step() { printf '\n==== %s ====\n' "$*"; }

step "format (clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -n 1))"
unformatted=()
while IFS= read -r -d '' f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done < <(git ls-files -z -- '*.cpp' '*.h' '*.cu' '*.cuh' ':!:third_party/**')
if [ ${#unformatted[@]} -gt 0 ]; then
  printf 'not clang-formatted (run clang-format -i on them):\n' >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
echo "all sources formatted"

step "size (no C++/CUDA source over 600 lines)"
oversized=()
while IFS= read -r -d '' f; do
  lines=$(wc -l <"$f")
  [ "$lines" -le 600 ] || oversized+=("$f ($lines lines)")
done < <(git ls-files -z -- '*.cpp' '*.h' '*.cu' '*.cuh' ':!:third_party/**')
if [ ${#oversized[@]} -gt 0 ]; then
  printf 'over 600 lines (split them by responsibility):\n' >&2
  printf '  %s\n' "${oversized[@]}" >&2
  exit 1
fi
echo "every source within 600 lines"

step "build ($preset)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
step "tests ($preset)"
with_display ctest --preset "$preset" -j "$jobs" -LE realcomfy

if [ "$quick" -eq 1 ]; then exit 0; fi

step "build (asan)"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
step "tests (asan + ubsan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0" with_display ctest --preset asan -j "$jobs" -LE 'gpu|realcomfy'

step "build (tsan: concurrency tests)"
cmake --preset tsan >/dev/null
tsan_targets=$(sed -n 's/^# concurrency-target: //p' tests/CMakeLists.txt tests/*/CMakeLists.txt 2>/dev/null | sort -u)
cmake --build --preset tsan -j "$jobs" --target $tsan_targets
step "tests (tsan)"
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tools/tsan.supp" with_display ctest --preset tsan -j "$jobs"

if ls tests/fuzz/*_fuzz.cpp >/dev/null 2>&1; then
  step "fuzz (libFuzzer, bounded)"
  cmake --preset fuzz >/dev/null
  fuzz_targets=$(for f in tests/fuzz/*_fuzz.cpp; do basename "$f" .cpp; done)
  cmake --build --preset fuzz -j "$jobs" --target $fuzz_targets
  for f in $(find build/fuzz -type f -name '*_fuzz' -perm -u+x); do
    name=$(basename "$f")
    corpus="tests/fuzz/corpus/${name%_fuzz}"
    mkdir -p "build/fuzz/corpus-$name"
    echo "fuzzing $name for ${DW_FUZZ_SECONDS:-20}s"
    "$f" -max_total_time="${DW_FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
      "build/fuzz/corpus-$name" $( [ -d "$corpus" ] && echo "$corpus" ) 2>&1 | tail -n 3
  done
fi
step "real ComfyUI (label realcomfy)"
comfy_src="${DW_COMFYUI_DIR:-../shared/comfyui}"
if [ -f "$comfy_src/main.py" ]; then
  started=$SECONDS
  if ! tools/comfyui_env.sh >/dev/null; then
    echo "scripts/test.sh: the ComfyUI venv could not be built (tools/comfyui_env.sh, message" \
      "above); the realcomfy tests need it" >&2
    exit 1
  fi
  if ! python3 tools/comfyui_checkpoint.py >/dev/null; then
    echo "scripts/test.sh: the random-weight SD1.5 checkpoint could not be built" \
      "(tools/comfyui_checkpoint.py, message above)" >&2
    exit 1
  fi
  with_display ctest --preset "$preset" -j "$jobs" -L realcomfy
  echo "realcomfy step: $((SECONDS - started)) s"
elif [ "${CI:-}" = "true" ]; then
  echo "scripts/test.sh: CI=true but no ComfyUI source at $comfy_src: realcomfy must run in CI" >&2
  exit 1
else
  echo "skipped: no ComfyUI source at $comfy_src (see ../shared/REAL_COMFYUI.md)"
fi

echo
echo "scripts/test.sh: all steps passed"
