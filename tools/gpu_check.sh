#!/usr/bin/env bash
# Runs THERE (a GPU machine, from the repository root, after tools/gpu_prepare.sh packed .device/
# here), in one call of about five minutes, and prints one table at the end:
#   tests     the GPU tests (every kernel and the backend against CPU references; DW_EXPECT_GPU
#             makes "no device" a failure) and the CUDA-GL interop test under EGL
#   memcheck  compute-sanitizer memcheck on the kernel tests, two goldens, the GPU-frame and async
#             tests, and the interop test
#   racecheck compute-sanitizer racecheck on the kernels that share memory within a block
#   bench     our decoder (bench_vae_gpu, also with the experimental fused upsample) and PyTorch
#             eager on the same weights
#   e2e       the app headless on EGL: CUDA backend, GPU frames through interop, keyframes from the
#             fake ComfyUI server at a fixed rate, a PyTorch matmul loop as a second GPU load;
#             SD-KL and taef2 at 512 and 1024 (tools/gpu_e2e.py says what each column measures)
#   compile   torch.compile(mode="max-autotune") of the same decoders, with its compile time, in
#             whatever is left of the time budget (it is last because it can take minutes)
#   profile   (not in the default set) the decoder's per-step times
#   OUT=/some/dir tools/gpu_check.sh [tests] [memcheck] [racecheck] [bench] [e2e] [compile] [profile]
#   tools/gpu_check.sh --dry-run   HERE, without a GPU: every part that can run on a CPU (payload
#             and libraries, the test binaries (they skip), the sanitizer and bench command lines,
#             the weight files, the PyTorch modules when torch is installed, and the whole e2e
#             harness with the CPU backend on llvmpipe) and the same table.
# Writes to $OUT two files (the device tool brings back at most 8): summary.txt, each step's line
# as the step ends, and logs.tgz, every step's log, packed again after each step, so a run killed
# at its limit still returns what it measured. Each step has its own timeout, cut to what is left
# of DW_CHECK_BUDGET_S (default 540 s; a step that no longer fits is skipped and says so); a
# failed step is recorded and the next one still runs. Run it with bash (exec bits may not travel):
#   OUT=$OUT bash tools/gpu_check.sh
set -u
export PYTHONUNBUFFERED=1
dry_run=0
steps=()
for arg in "$@"; do
  if [[ $arg == --dry-run ]]; then dry_run=1; else steps+=("$arg"); fi
done
((${#steps[@]})) || steps=(tests memcheck racecheck bench e2e compile)
root=$(pwd)
out=${OUT:-$root/gpu-out}
[[ -z ${OUT:-} ]] && rm -rf "$out" # here: the last dry run's files go
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }
want() {
  local s
  for s in "${steps[@]}"; do [[ $s == "$1" ]] && return 0; done
  return 1
}
budget=${DW_CHECK_BUDGET_S:-540}
left() { echo $((budget - SECONDS)); }
# A step's timeout: what it asks for, cut to what is left of the budget less 15 s for the wrap-up;
# 0 when less than its minimum is left (the step is then skipped, and says so).
allot() {
  local want=$1 min=${2:-10} t
  t=$((budget - SECONDS - 15))
  ((t > want)) && t=$want
  ((t >= min)) && echo "$t" || echo 0
}
skipped() { echo "skipped: $(left) s of DW_CHECK_BUDGET_S=$budget left"; }

# ---- the payload and the libraries the machine provides ----------------------------------------
work=${TMPDIR:-/tmp}/dreamwindow-device
rm -rf "$work" && mkdir -p "$work"
logs=$work/logs # every step's log; packed into $out/logs.tgz after each step
mkdir -p "$logs"
pack() { tar -C "$logs" -czf "$out/logs.tgz.tmp" . 2>/dev/null && mv "$out/logs.tgz.tmp" "$out/logs.tgz"; }
if ! tar -C "$work" -xzf "$root/.device/payload.tar.gz"; then
  say "FATAL: .device/payload.tar.gz missing or broken: run tools/gpu_prepare.sh on the build machine and carry .device"
  exit 1
fi
find_lib_dir() { # first directory holding $1 under the usual places
  local hit
  hit=$(find /opt/torch/.venv /usr/local /usr/lib /usr/lib64 -name "$1" -print -quit 2>/dev/null)
  [[ -n $hit ]] && dirname "$hit"
}
cudnn_dir=$(find_lib_dir 'libcudnn.so.9')
cublas_dir=$(find_lib_dir 'libcublas.so.13')
cublaslt_dir=$(find_lib_dir 'libcublasLt.so.13')
# The packed libraries (built on Debian 12) are for our binaries alone, never exported: the
# machine's Python would load Debian's libexpat or libssl in place of its own and fail to start.
libpath="$work/lib:${cudnn_dir:-}:${cublas_dir:-}:${cublaslt_dir:-}"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [[ -d $d ]] && libpath+=":$d"
done
libpath+="${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ours=(env "LD_LIBRARY_PATH=$libpath") # runs one of our binaries (or the sanitizer on one)
# The NVIDIA driver's EGL vendor library, for the GL context of the interop test and the app (a
# vendor file of our own naming the driver's library where the machine has none).
nvidia_egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
if ((!dry_run)); then
  if [[ ! -f $nvidia_egl ]]; then
    nvidia_egl=$work/10_nvidia.json
    echo '{"file_format_version": "1.0.0", "ICD": {"library_path": "libEGL_nvidia.so.0"}}' >"$nvidia_egl"
  fi
  export __EGL_VENDOR_LIBRARY_FILENAMES=$nvidia_egl
fi
export DW_SOURCE_DIR=$root DW_SHARED_MODELS=$work/models DREAMWINDOW_DATA_DIR=$root
unset DISPLAY WAYLAND_DISPLAY
((dry_run)) || export DW_EXPECT_GPU=1
bin=$work/bin
tests_bin=$bin/test_vae_gpu
interop_bin=$bin/test_render_cuda_interop
bench_bin=$bin/bench_vae_gpu
app_bin=$bin/dreamwindow
# The app as tools/gpu_e2e.py starts it: with our libraries, the Python that starts it without.
app_run=$bin/dreamwindow-run
printf '#!/bin/bash\nLD_LIBRARY_PATH=%q exec %q "$@"\n' "$libpath" "$app_bin" >"$app_run"
chmod +x "$app_run"
model_dir=$work/models-bench
sanitizer=$(command -v compute-sanitizer)
for candidate in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [[ -z $sanitizer && -x $candidate ]] && sanitizer=$candidate
done
[[ -z $sanitizer ]] && sanitizer=$(find /usr/local /opt -name compute-sanitizer -type f -perm -u+x -print -quit 2>/dev/null)
sanitizer=${sanitizer:-compute-sanitizer}
python=/opt/torch/.venv/bin/python3
[[ -x $python ]] || python=python3
((dry_run)) && [[ -x /usr/bin/python3 ]] && python=/usr/bin/python3 # Debian's: aiohttp, PIL

say "== $( ((dry_run)) && echo "DRY RUN on $(hostname), no GPU" || nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
say "   payload $(head -1 "$root/.device/MANIFEST" 2>/dev/null || echo 'without a MANIFEST'); repository at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
say "   cuDNN from ${cudnn_dir:-NOT FOUND}; cuBLAS from ${cublas_dir:-NOT FOUND}; EGL vendor ${__EGL_VENDOR_LIBRARY_FILENAMES:-default}"
missing=$("${ours[@]}" ldd "$tests_bin" "$interop_bin" "$bench_bin" "$app_bin" | grep 'not found' | sort -u)
[[ -n $missing ]] && say "   MISSING LIBRARIES: $missing"
py_modules='aiohttp, numpy, PIL'
((dry_run)) || py_modules+=', torch'
say "   python $("$python" -c "import sys, $py_modules; print(sys.version.split()[0], 'with $py_modules')" 2>&1 | tail -1)"

# gtest's XML counts: "tests=N failures=F skipped=S"
gtest_counts() {
  local xml=$1 n f s
  n=$(grep -o 'tests="[0-9]*"' "$xml" 2>/dev/null | head -1 | grep -o '[0-9]*')
  f=$(grep -o 'failures="[0-9]*"' "$xml" 2>/dev/null | head -1 | grep -o '[0-9]*')
  s=$(grep -c '<skipped' "$xml" 2>/dev/null)
  echo "tests=${n:-?} failures=${f:-?} skipped=${s:-?}"
}
# "rc=R errors=E" of a compute-sanitizer run
sanitize() {
  local tool=$1 timeout_s=$2 log=$3 binary=$4 filter=$5 rc errors
  if ((dry_run)); then
    "$sanitizer" --version >/dev/null 2>&1 && echo "found; would run: $tool on $(basename "$binary") ($filter)" ||
      echo "compute-sanitizer NOT FOUND ($sanitizer)"
    return
  fi
  if ((timeout_s == 0)); then
    skipped
    return
  fi
  timeout -k 5 "$timeout_s" "${ours[@]}" "$sanitizer" --tool "$tool" --error-exitcode 99 "$binary" \
    --gtest_filter="$filter" >"$log" 2>&1
  rc=$?
  # memcheck: "ERROR SUMMARY: N errors" (CUDA API errors, "Program hit ...", count too: read the
  # lines below before calling one a memory bug); racecheck: "RACECHECK SUMMARY: N hazards".
  errors=$(grep -oE '(ERROR SUMMARY: [0-9]+ error|RACECHECK SUMMARY: [0-9]+ hazard)' "$log" | tail -1 |
    grep -oE '[0-9]+')
  echo "rc=$rc errors=${errors:-?}$( ((rc == 124 || rc == 137)) && echo ' (TIMED OUT)')"
  grep -m4 -E '^========= (Invalid|Program hit|Error|ERROR|Race|Warning)' "$log" | tee -a "$summary" >&2
}
# Runs a gtest binary for up to `want` seconds of the budget (skipped under `min`), its log and XML
# in $logs/NAME.log and .xml; prints "rc=R tests=N failures=F skipped=S".
run_gtest() {
  local want=$1 min=$2 binary=$3 name=$4 t rc
  t=$(allot "$want" "$min")
  if ((t == 0)); then
    skipped
    return
  fi
  timeout -k 5 "$t" "${ours[@]}" "$binary" --gtest_output="xml:$logs/$name.xml" >"$logs/$name.log" 2>&1
  rc=$?
  echo "rc=$rc $(gtest_counts "$logs/$name.xml")$( ((rc == 124 || rc == 137)) && echo ' (TIMED OUT: no XML counts)')"
}

# ---- the tables, printed as soon as their numbers exist and again at the end -----------------
bench_table() {
  cat "$logs/bench.log" "$logs/torch.log" "$logs/compile.log" 2>/dev/null | awk '
  /^RESULT/ {
    delete f
    for (i = 2; i <= NF; ++i) { split($i, kv, "="); f[kv[1]] = kv[2] }
    key = f["model"] " " f["size"] " " f["batch"]
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    ms = ("error" in f) ? "error" : f["ms_per_frame"]
    if (f["impl"] == "ours") { ours[key] = ms; prec[key] = f["precision"] }
    else if (f["impl"] == "torch") torch[key] = ms
    else if (f["impl"] == "torch_compile") { comp[key] = ms; cs[key] = f["compile_s"] }
    else extra[++m] = sprintf("%s %s: %s ms/frame, %s TFLOPS", f["impl"], key, ms, f["tflops"])
  }
  function ratio(a, b) { return (a + 0 > 0 && b + 0 > 0) ? sprintf("%.2fx", b / a) : "-" }
  END {
    if (n == 0) exit
    printf "%-6s %5s %5s | %8s %5s | %8s %7s | %8s %9s %7s\n", "model", "size", "batch", "ours ms", "prec", "eager ms", "speedup", "comp. ms", "compile s", "speedup"
    for (i = 1; i <= n; ++i) {
      k = order[i]; split(k, p, " ")
      o = (k in ours) ? ours[k] : "-"; t = (k in torch) ? torch[k] : "-"; c = (k in comp) ? comp[k] : "-"
      printf "%-6s %5s %5s | %8s %5s | %8s %7s | %8s %9s %7s\n", p[1], p[2], p[3], o, (k in prec) ? prec[k] : "-", t, ratio(o, t), c, (k in cs) ? cs[k] : "-", ratio(o, c)
    }
    for (i = 1; i <= m; ++i) print extra[i]
  }' | tee -a "$summary"
  if ! grep -qh '^RESULT' "$logs/bench.log" "$logs/torch.log" "$logs/compile.log" 2>/dev/null; then
    local f
    for f in bench.log torch.log compile.log; do
      [[ -s $logs/$f ]] && say "   no results; $f ends: $(tail -1 "$logs/$f")"
    done
  fi
  grep -h 'error=' "$logs/bench.log" "$logs/torch.log" "$logs/compile.log" 2>/dev/null | head -5 | tee -a "$summary"
  grep -h '^DRYRUN\|^dry run' "$logs/bench.log" "$logs/torch.log" 2>/dev/null | tee -a "$summary"
}
e2e_table() {
  [[ -f $logs/e2e.txt ]] || return
  awk '
    /^E2E_LOAD/ { load = $0; next }
    /^E2E_SKIPPED/ { skipped[++s] = $0; next }
    /^E2E / {
      delete f
      for (i = 2; i <= NF; ++i) { split($i, kv, "="); f[kv[1]] = kv[2] }
      if (!header++) printf "%-6s %5s | %8s %6s | %7s %7s | %8s %6s %6s | %-4s %-7s %s\n", "e2e", "size", "produced", "shown", "p50 ms", "p99 ms", "GPU ms/f", "VRAM", "host/f", "exit", "backend", "interop"
      printf "%-6s %5s | %8s %6s | %7s %7s | %8s %6s %6s | %-4s %-7s %s\n", f["model"], f["size"], f["produced_fps"], f["shown_fps"], f["frame_p50_ms"], f["frame_p99_ms"], f["gpu_ms_per_frame"], f["vram_mib"], f["host_copies_per_frame"], f["exit"], f["backend"], f["interop"]
    }
    END { for (i = 1; i <= s; ++i) print skipped[i]; if (load) print "second GPU load: " load }' "$logs/e2e.txt" | tee -a "$summary"
  grep -h 'exit code\|E2E_FAILED\|Traceback\|Error' "$logs/e2e.txt" | head -8 | tee -a "$summary"
  # Whether NVIDIA's EGL context reports GPU resets (render/gl_reset.h; Mesa's never does).
  grep -h -o -m1 'GPU resets are [a-z ]*' "$logs"/e2e-*.log 2>/dev/null | sort | uniq -c | tee -a "$summary"
}

# ---- steps: each says its line as it ends ------------------------------------------------------
tests_result="not run" interop_result="not run"
if want tests; then
  tests_result=$(run_gtest 90 20 "$tests_bin" tests)
  say "tests:     $tests_result"
  grep -o 'skipped message="[^"]*"' "$logs/tests.xml" 2>/dev/null | head -1 |
    sed 's/&#x0A;/ /g; s/^/   first skip: /' | tee -a "$summary"
  grep -E '^\[  FAILED  \]' "$logs/tests.log" 2>/dev/null | sort -u | head -20 | tee -a "$summary"
  # CUDA-GL interop (EGL): its own binary; skips with the reason when there is no NVIDIA EGL.
  interop_result=$(run_gtest 30 10 "$interop_bin" interop)
  say "interop:   $interop_result"
  interop_why=$(grep -m1 -A1 ': Skipped$' "$logs/interop.log" 2>/dev/null | tail -1)
  [[ -n $interop_why ]] && say "           skipped: $interop_why"
  grep -E '^\[  FAILED  \]' "$logs/interop.log" 2>/dev/null | sort -u | tee -a "$summary"
  grep -o 'name="upload_ms" value="[^"]*"' "$logs/interop.xml" 2>/dev/null | sed 's/^/           /' | tee -a "$summary"
  pack
fi

memcheck_result="not run" racecheck_result="not run"
if want memcheck; then
  filter='GpuKernels.*:GpuAsync.*:GpuBackend.FramesAreWrittenOnTheGpuLikeTheCpuBackendsFrames'
  filter+=':GpuBackend.PlanarFp16FramesAreWrittenOnTheGpuLikeTheCpuBackendsFrames'
  filter+=':Fixtures/GpuBackendGolden.DecoderAndEncoderMatchPyTorchAndTheCpuBackend/kl4_ldm'
  filter+=':Fixtures/GpuBackendGolden.DecoderAndEncoderMatchPyTorchAndTheCpuBackend/tae4'
  # Not the tests that time the host against a held stream: the sanitizer may serialise launches.
  filter+='-GpuAsync.GpuFramesAreEnqueuedWithoutWaitingForTheGpu'
  memcheck_result=$(sanitize memcheck "$(allot 75 30)" "$logs/memcheck.log" "$tests_bin" "$filter")
  memcheck_result+="; interop: $(sanitize memcheck "$(allot 25 10)" "$logs/memcheck-interop.log" "$interop_bin" \
    '*-CudaInterop.UploadReturnsBeforeTheFrameIsReadyAndGlWaitsOnTheGpu')"
  say "memcheck:  $memcheck_result"
  pack
fi
if want racecheck; then
  filter='GpuKernels.GroupNorm*:GpuKernels.ConvBiasAddedByTheGroupNormThatReadsItMatchesCpu'
  filter+=':GpuKernels.AttentionMatchesCpu:GpuKernels.BatchedSlerpMatchesCpuForEveryT'
  racecheck_result=$(sanitize racecheck "$(allot 40 15)" "$logs/racecheck.log" "$tests_bin" "$filter")
  say "racecheck: $racecheck_result"
  pack
fi

if want bench || want e2e || want compile; then # the weight files every later step reads
  t=$(allot 60 10)
  if ((t)) && timeout -k 5 "$t" "${ours[@]}" "$bench_bin" --write-models --model-dir "$model_dir" >"$logs/models.log" 2>&1; then
    :
  else
    say "   writing the bench weights failed: $(tail -1 "$logs/models.log" 2>/dev/null)"
  fi
fi
# bench_vae_gpu, under `timeout` with the budget, a failure noted in its log
bench_ours() {
  local want=$1 what=$2 t
  shift 2
  t=$(allot "$want" 10)
  if ((t == 0)); then
    echo "RESULT impl=$what model=- size=- batch=- error=\"$(skipped)\"" >>"$logs/bench.log"
    return
  fi
  timeout -k 5 "$t" "${ours[@]}" "$bench_bin" --model-dir "$model_dir" --seconds 0.5 "$@" >>"$logs/bench.log" 2>&1 ||
    echo "$what bench exit code $?" >>"$logs/bench.log"
}
if want bench; then
  : >"$logs/bench.log"
  if ((dry_run)); then
    timeout -k 5 20 "${ours[@]}" "$bench_bin" --model-dir "$model_dir" --seconds 0.5 >"$logs/bench.log" 2>&1
    echo "dry run: bench_vae_gpu exit code $? (2: no CUDA device, as expected)" >>"$logs/bench.log"
  else
    bench_ours 60 ours
    # The headline cases again with every cuDNN algorithm timed (cudnnFindConvolutionForwardAlgorithmEx).
    bench_ours 25 ours_exhaustive --models sd,taef2 --sizes 512 --batches 8 --exhaustive
    # The experimental fused upsample (off by default until these rows show it faster).
    bench_ours 30 ours_fused --models sd,taef2 --sizes 512,1024 --batches 8 --fuse-upsample
  fi
  pack
  if ((dry_run)); then
    if "$python" -c 'import torch' 2>/dev/null; then
      timeout -k 5 120 "$python" "$root/tools/bench_vae_torch_gpu.py" --dry-run --model-dir "$model_dir" \
        >"$logs/torch.log" 2>&1
    else
      "$python" -m py_compile "$root/tools/bench_vae_torch_gpu.py" &&
        echo "dry run: torch is not installed here; bench_vae_torch_gpu.py compiles" >"$logs/torch.log"
    fi
  else
    t=$(allot 60 20)
    if ((t)); then
      timeout -k 5 "$t" "$python" "$root/tools/bench_vae_torch_gpu.py" --impls eager --model-dir "$model_dir" \
        --seconds 0.5 >"$logs/torch.log" 2>&1 || echo "torch bench exit code $?" >>"$logs/torch.log"
    else
      echo "RESULT impl=torch model=- size=- batch=- error=\"$(skipped)\"" >"$logs/torch.log"
    fi
  fi
  bench_table
  pack
fi
if want profile; then # where the decoder's time goes, step by step (not in the default set)
  t=$(allot 120 20)
  : >"$logs/profile.txt"
  ((t)) && { timeout -k 5 "$t" "${ours[@]}" "$bench_bin" --profile --model-dir "$model_dir" \
    --models "${DW_PROFILE_MODELS:-sd,taef2}" --sizes 512 --batches 1,8 >"$logs/profile.txt" 2>&1 ||
    echo "profile exit code $?" >>"$logs/profile.txt"; }
  for variant in --unfused --fuse-upsample; do # the conv epilogue apart; the upsample fused
    t=$(allot 60 20)
    ((t)) && timeout -k 5 "$t" "${ours[@]}" "$bench_bin" --profile "$variant" --model-dir "$model_dir" \
      --models sd,taef2 --sizes 512 --batches 8 >>"$logs/profile.txt" 2>&1
  done
  grep -E '^PROFILE|kind ' "$logs/profile.txt" | tee -a "$summary"
  pack
fi

if want e2e; then
  taef2="$work/models/taef2_decoder.safetensors:$work/models/taef2_encoder.safetensors"
  sd="$model_dir/sd_vae_random.safetensors"
  if ((dry_run)); then # CPU backend on llvmpipe: small sizes, short runs, no second load
    e2e_args=(--backend cpu --sizes 64 --seconds 3 --frames-between 2 --content-fps 12
      --display-width 320 --display-height 180 --keyframe-seconds 0.1 --dry-run)
  else
    e2e_args=(--backend cuda --sizes 512,1024 --seconds 8 --load)
  fi
  t=$(allot 110 30)
  if ((t)); then
    # Its own budget ends before the timeout, so it skips a run rather than being cut in one.
    timeout -k 10 "$t" "$python" "$root/tools/gpu_e2e.py" --exe "$app_run" --models "sd=$sd,taef2=$taef2" \
      --python "$python" --out "$logs" --budget-s $((t - 10)) "${e2e_args[@]}" >"$logs/e2e.txt" 2>&1 ||
      echo "e2e exit code $?" >>"$logs/e2e.txt"
  else
    echo "E2E_SKIPPED model=all size=all: $(skipped)" >"$logs/e2e.txt"
  fi
  e2e_table
  pack
fi

if want compile && ((!dry_run)); then # last: max-autotune may compile for minutes
  t=$(allot 100000 40)
  if ((t)); then
    timeout -k 5 "$t" "$python" "$root/tools/bench_vae_torch_gpu.py" --impls compile \
      --compile taef2:512:8,sd:512:8 --compile-budget $((t - 30)) --model-dir "$model_dir" \
      --seconds 0.5 >"$logs/compile.log" 2>&1 || echo "compile exit code $?" >>"$logs/compile.log"
  else
    echo "RESULT impl=torch_compile model=taef2 size=512 batch=8 error=\"$(skipped)\"" >"$logs/compile.log"
  fi
  grep -h '^RESULT impl=torch_compile' "$logs/compile.log" | tee -a "$summary"
  pack
fi

# ---- the recap: every step's line and table together --------------------------------------------
say "== recap"
say "tests:     $tests_result"
say "interop:   $interop_result"
say "memcheck:  $memcheck_result"
say "racecheck: $racecheck_result"
want bench || want compile && bench_table
want e2e && e2e_table
say "took ${SECONDS} s"
pack
exit 0
