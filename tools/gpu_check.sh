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
# Writes to $OUT: summary.txt and one log per step. Each step has its own timeout; a failed step
# is recorded and the next one still runs. DW_CHECK_BUDGET_S (default 540) bounds the whole run.
set -u
dry_run=0
steps=()
for arg in "$@"; do
  if [[ $arg == --dry-run ]]; then dry_run=1; else steps+=("$arg"); fi
done
((${#steps[@]})) || steps=(tests memcheck racecheck bench e2e compile)
root=$(pwd)
out=${OUT:-$root/gpu-out}
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

# ---- the payload and the libraries the machine provides ----------------------------------------
work=${TMPDIR:-/tmp}/dreamwindow-device
rm -rf "$work" && mkdir -p "$work"
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
export LD_LIBRARY_PATH="$work/lib:${cudnn_dir:-}:${cublas_dir:-}:${cublaslt_dir:-}:${LD_LIBRARY_PATH:-}"
# The NVIDIA driver's EGL vendor library, for the GL context of the interop test and the app.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [[ -d $d ]] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
done
nvidia_egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[[ -f $nvidia_egl && $dry_run == 0 ]] && export __EGL_VENDOR_LIBRARY_FILENAMES=$nvidia_egl
export DW_SOURCE_DIR=$root DW_SHARED_MODELS=$work/models DREAMWINDOW_DATA_DIR=$root
unset DISPLAY WAYLAND_DISPLAY
((dry_run)) || export DW_EXPECT_GPU=1
bin=$work/bin
tests_bin=$bin/test_vae_gpu
interop_bin=$bin/test_render_cuda_interop
bench_bin=$bin/bench_vae_gpu
app_bin=$bin/dreamwindow
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
say "   cuDNN from ${cudnn_dir:-NOT FOUND}; cuBLAS from ${cublas_dir:-NOT FOUND}; EGL vendor ${__EGL_VENDOR_LIBRARY_FILENAMES:-default}"
missing=$(ldd "$tests_bin" "$interop_bin" "$bench_bin" "$app_bin" | grep 'not found' | sort -u)
[[ -n $missing ]] && say "   MISSING LIBRARIES: $missing"

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
  timeout "$timeout_s" "$sanitizer" --tool "$tool" --error-exitcode 99 "$binary" --gtest_brief=1 \
    --gtest_filter="$filter" >"$log" 2>&1
  rc=$?
  errors=$(grep -o 'ERROR SUMMARY: [0-9]* error' "$log" | tail -1 | grep -o '[0-9]*')
  echo "rc=$rc errors=${errors:-?}$( ((rc == 124)) && echo ' (TIMED OUT)')"
  grep -m3 -E '^========= (Invalid|Program hit|Error|Race)' "$log" >>"$summary"
}

# ---- steps ----------------------------------------------------------------------------------
tests_result="not run" interop_result="not run"
if want tests; then
  timeout 90 "$tests_bin" --gtest_brief=1 --gtest_output="xml:$out/tests.xml" >"$out/tests.log" 2>&1
  rc=$?
  tests_result="rc=$rc $(gtest_counts "$out/tests.xml")$( ((rc == 124)) && echo ' (TIMED OUT)')"
  grep -o 'skipped message="[^"]*"' "$out/tests.xml" 2>/dev/null | head -1 |
    sed 's/&#x0A;/ /g; s/^/   first skip: /' | tee -a "$summary"
  grep -E '^\[  FAILED  \]' "$out/tests.log" | sort -u | head -20 | tee -a "$summary"
  # CUDA-GL interop (EGL): its own binary; skips with the reason when there is no NVIDIA EGL.
  timeout 30 "$interop_bin" --gtest_output="xml:$out/interop.xml" >"$out/interop.log" 2>&1
  rc=$?
  interop_result="rc=$rc $(gtest_counts "$out/interop.xml")"
  interop_why=$(grep -m1 -A1 ': Skipped$' "$out/interop.log" | tail -1)
fi

memcheck_result="not run" racecheck_result="not run"
if want memcheck; then
  filter='GpuKernels.*:GpuAsync.*:GpuBackend.FramesAreWrittenOnTheGpuLikeTheCpuBackendsFrames'
  filter+=':Fixtures/GpuBackendGolden.DecoderAndEncoderMatchPyTorchAndTheCpuBackend/kl4_ldm'
  filter+=':Fixtures/GpuBackendGolden.DecoderAndEncoderMatchPyTorchAndTheCpuBackend/tae4'
  # Not the tests that time the host against a held stream: the sanitizer may serialise launches.
  filter+='-GpuAsync.GpuFramesAreEnqueuedWithoutWaitingForTheGpu'
  memcheck_result=$(sanitize memcheck 75 "$out/memcheck.log" "$tests_bin" "$filter")
  memcheck_result+="; interop: $(sanitize memcheck 25 "$out/memcheck-interop.log" "$interop_bin" \
    '*-CudaInterop.UploadReturnsBeforeTheFrameIsReadyAndGlWaitsOnTheGpu')"
fi
if want racecheck; then
  filter='GpuKernels.GroupNorm*:GpuKernels.ConvBiasAddedByTheGroupNormThatReadsItMatchesCpu'
  filter+=':GpuKernels.AttentionMatchesCpu:GpuKernels.BatchedSlerpMatchesCpuForEveryT'
  racecheck_result=$(sanitize racecheck 40 "$out/racecheck.log" "$tests_bin" "$filter")
fi

if want bench || want e2e || want compile; then # the weight files every later step reads
  "$bench_bin" --write-models --model-dir "$model_dir" >"$out/models.log" 2>&1 ||
    say "   writing the bench weights failed: $(tail -1 "$out/models.log")"
fi
if want bench; then
  if ((dry_run)); then
    timeout 20 "$bench_bin" --model-dir "$model_dir" --seconds 0.5 >"$out/bench.log" 2>&1
    echo "dry run: bench_vae_gpu exit code $? (2: no CUDA device, as expected)" >>"$out/bench.log"
  else
    timeout 60 "$bench_bin" --model-dir "$model_dir" --seconds 0.5 >"$out/bench.log" 2>&1 ||
      echo "bench exit code $?" >>"$out/bench.log"
    # The headline cases again with every cuDNN algorithm timed (cudnnFindConvolutionForwardAlgorithmEx).
    timeout 25 "$bench_bin" --model-dir "$model_dir" --seconds 0.5 --models sd,taef2 --sizes 512 \
      --batches 8 --exhaustive >>"$out/bench.log" 2>&1 || echo "exhaustive bench exit code $?" >>"$out/bench.log"
    # The experimental fused upsample (off by default until these rows show it faster).
    timeout 30 "$bench_bin" --model-dir "$model_dir" --seconds 0.5 --models sd,taef2 --sizes 512,1024 \
      --batches 8 --fuse-upsample >>"$out/bench.log" 2>&1 || echo "fused bench exit code $?" >>"$out/bench.log"
  fi
  if ((dry_run)); then
    if "$python" -c 'import torch' 2>/dev/null; then
      timeout 120 "$python" "$root/tools/bench_vae_torch_gpu.py" --dry-run --model-dir "$model_dir" \
        >"$out/torch.log" 2>&1
    else
      "$python" -m py_compile "$root/tools/bench_vae_torch_gpu.py" &&
        echo "dry run: torch is not installed here; bench_vae_torch_gpu.py compiles" >"$out/torch.log"
    fi
  else
    timeout 60 "$python" "$root/tools/bench_vae_torch_gpu.py" --impls eager --model-dir "$model_dir" \
      --seconds 0.5 >"$out/torch.log" 2>&1 || echo "torch bench exit code $?" >>"$out/torch.log"
  fi
fi
if want profile; then # where the decoder's time goes, step by step (not in the default set)
  timeout 120 "$bench_bin" --profile --model-dir "$model_dir" --models "${DW_PROFILE_MODELS:-sd,taef2}" \
    --sizes 512 --batches 1,8 >"$out/profile.txt" 2>&1 || echo "profile exit code $?" >>"$out/profile.txt"
  for variant in --unfused --fuse-upsample; do # the conv epilogue apart; the upsample fused
    timeout 60 "$bench_bin" --profile "$variant" --model-dir "$model_dir" --models sd,taef2 \
      --sizes 512 --batches 8 >>"$out/profile.txt" 2>&1
  done
  grep -E '^PROFILE|kind ' "$out/profile.txt" | tee -a "$summary"
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
  timeout 110 "$python" "$root/tools/gpu_e2e.py" --exe "$app_bin" --models "sd=$sd,taef2=$taef2" \
    --python "$python" --out "$out" "${e2e_args[@]}" >"$out/e2e.txt" 2>&1 ||
    echo "e2e exit code $?" >>"$out/e2e.txt"
fi

if want compile && ((!dry_run)); then # last: max-autotune may compile for minutes
  remaining=$(left)
  if ((remaining > 40)); then
    timeout "$remaining" "$python" "$root/tools/bench_vae_torch_gpu.py" --impls compile \
      --compile sd:512:8,taef2:512:8 --compile-budget $((remaining - 30)) --model-dir "$model_dir" \
      --seconds 0.5 >"$out/compile.log" 2>&1 || echo "compile exit code $?" >>"$out/compile.log"
  else
    echo "RESULT impl=torch_compile model=sd size=512 batch=8 error=\"no time left ($remaining s)\"" >"$out/compile.log"
  fi
fi

# ---- the table --------------------------------------------------------------------------------
say "tests:     $tests_result"
say "interop:   $interop_result"
[[ -n ${interop_why:-} ]] && say "           skipped: $interop_why"
say "memcheck:  $memcheck_result"
say "racecheck: $racecheck_result"
cat "$out/bench.log" "$out/torch.log" "$out/compile.log" 2>/dev/null | awk '
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
grep -h 'error=' "$out/bench.log" "$out/torch.log" "$out/compile.log" 2>/dev/null | head -5 | tee -a "$summary"
grep -h '^DRYRUN\|^dry run' "$out/bench.log" "$out/torch.log" 2>/dev/null | tee -a "$summary"
if [[ -f $out/e2e.txt ]]; then
  awk '
    /^E2E_LOAD/ { load = $0; next }
    /^E2E / {
      delete f
      for (i = 2; i <= NF; ++i) { split($i, kv, "="); f[kv[1]] = kv[2] }
      if (!header++) printf "%-6s %5s | %8s %6s | %7s %7s | %8s %6s %6s | %-4s %-7s %s\n", "e2e", "size", "produced", "shown", "p50 ms", "p99 ms", "GPU ms/f", "VRAM", "host/f", "exit", "backend", "interop"
      printf "%-6s %5s | %8s %6s | %7s %7s | %8s %6s %6s | %-4s %-7s %s\n", f["model"], f["size"], f["produced_fps"], f["shown_fps"], f["frame_p50_ms"], f["frame_p99_ms"], f["gpu_ms_per_frame"], f["vram_mib"], f["host_copies_per_frame"], f["exit"], f["backend"], f["interop"]
    }
    END { if (load) print "second GPU load: " load }' "$out/e2e.txt" | tee -a "$summary"
  grep -h 'exit code\|E2E_FAILED\|Traceback\|Error' "$out/e2e.txt" | head -8 | tee -a "$summary"
fi
say "took ${SECONDS} s"
exit 0
