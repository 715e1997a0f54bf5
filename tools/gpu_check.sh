#!/usr/bin/env bash
# Runs THERE (a GPU machine), from the repository root, after tools/gpu_prepare.sh packed .device/
# here: the GPU tests, compute-sanitizer memcheck on a subset, our decoder benchmark and the
# PyTorch one, then a short table. Nothing is compiled there.
#   OUT=/some/dir tools/gpu_check.sh [tests] [memcheck] [bench] [torch] [profile]
#   (no argument: the first four; profile prints the decoder's per-step times to profile.txt)
# Writes to $OUT: summary.txt, tests.log, tests.xml, interop.log, memcheck.log, bench.log, torch.log.
# Each step has its own timeout; a failed step is recorded and the next one still runs.
set -u
root=$(pwd)
out=${OUT:-$root/gpu-out}
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }

steps=("$@")
((${#steps[@]})) || steps=(tests memcheck bench torch)
want() {
  local s
  for s in "${steps[@]}"; do [[ $s == "$1" ]] && return 0; done
  return 1
}

# ---- the payload and the libraries the machine provides ----------------------------------------
work=${TMPDIR:-/tmp}/dreamwindow-device
rm -rf "$work" && mkdir -p "$work"
if ! tar -C "$work" -xzf "$root/.device/payload.tar.gz"; then
  say "FATAL: .device/payload.tar.gz missing or broken: run tools/gpu_prepare.sh on the build machine and carry .device"
  exit 1
fi
find_lib_dir() {  # first directory holding $1 under the usual places
  local hit
  hit=$(find /opt/torch/.venv /usr/local /usr/lib /usr/lib64 -name "$1" -print -quit 2>/dev/null)
  [[ -n $hit ]] && dirname "$hit"
}
cudnn_dir=$(find_lib_dir 'libcudnn.so.9')
cublas_dir=$(find_lib_dir 'libcublas.so.13')
cublaslt_dir=$(find_lib_dir 'libcublasLt.so.13')
export LD_LIBRARY_PATH="$work/lib:${cudnn_dir:-}:${cublas_dir:-}:${cublaslt_dir:-}:${LD_LIBRARY_PATH:-}"
export DW_SOURCE_DIR=$root DW_SHARED_MODELS=$work/models
tests_bin=$work/bin/test_vae_gpu
interop_bin=$work/bin/test_render_cuda_interop
bench_bin=$work/bin/bench_vae_gpu
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
python=/opt/torch/.venv/bin/python3
[[ -x $python ]] || python=python3

say "== $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
say "   cuDNN from ${cudnn_dir:-NOT FOUND}; cuBLAS from ${cublas_dir:-NOT FOUND}"
missing=$(ldd "$tests_bin" "$interop_bin" "$bench_bin" | grep 'not found' | sort -u)
[[ -n $missing ]] && say "   MISSING LIBRARIES: $missing"

# ---- steps ----------------------------------------------------------------------------------
tests_result="not run"
interop_result="not run"
if want tests; then
  timeout 150 "$tests_bin" --gtest_brief=1 --gtest_output="xml:$out/tests.xml" >"$out/tests.log" 2>&1
  rc=$?
  passed=$(grep -o 'tests="[0-9]*"' "$out/tests.xml" 2>/dev/null | head -1 | grep -o '[0-9]*')
  failed=$(grep -o 'failures="[0-9]*"' "$out/tests.xml" 2>/dev/null | head -1 | grep -o '[0-9]*')
  skipped=$(grep -c '<skipped' "$out/tests.xml" 2>/dev/null)
  tests_result="rc=$rc tests=${passed:-?} failures=${failed:-?} skipped=${skipped:-?}"
  ((rc == 124)) && tests_result="$tests_result (TIMED OUT)"
  grep -o 'skipped message="[^"]*"' "$out/tests.xml" 2>/dev/null | head -1 | sed 's/^/   first skip: /' |
    tee -a "$summary"
  grep -E '^\[  FAILED  \]' "$out/tests.log" | sort -u | head -20 | tee -a "$summary"
  # CUDA-GL interop (EGL): its own binary; skips with the reason when the machine has no EGL GL.
  timeout 45 "$interop_bin" >"$out/interop.log" 2>&1
  rc=$?
  interop_result="rc=$rc $(grep -E '^\[  (PASSED  |SKIPPED |FAILED  )\] [0-9]+ test' "$out/interop.log" |
    sed 's/, listed below://' | tr -s ' ' | tr '\n' ' ')"
  interop_why=$(grep -m1 -A1 ': Skipped$' "$out/interop.log" | tail -1)
fi

memcheck_result="not run"
if want memcheck; then
  filter='GpuKernels.*:Fixtures/GpuBackendGolden.DecoderAndEncoderMatchPyTorchAndTheCpuBackend/kl4_ldm'
  filter+=':Fixtures/GpuBackendGolden.DecoderAndEncoderMatchPyTorchAndTheCpuBackend/tae4'
  filter+=':GpuBackend.FramesAreWrittenOnTheGpuLikeTheCpuBackendsFrames'
  timeout 120 "$sanitizer" --tool memcheck --error-exitcode 99 "$tests_bin" --gtest_brief=1 \
    --gtest_filter="$filter" >"$out/memcheck.log" 2>&1
  rc=$?
  errors=$(grep -o 'ERROR SUMMARY: [0-9]* error' "$out/memcheck.log" | tail -1 | grep -o '[0-9]*')
  memcheck_result="rc=$rc errors=${errors:-?}"
  grep -m5 -E '^========= (Invalid|Program hit|Error)' "$out/memcheck.log" | tee -a "$summary"
  ((rc == 124)) && memcheck_result="$memcheck_result (TIMED OUT)"
fi

model_dir=$work/models-bench
if want bench; then
  timeout 120 "$bench_bin" --model-dir "$model_dir" --seconds 0.7 >"$out/bench.log" 2>&1
  rc=$?
  ((rc == 0)) || echo "bench exit code $rc" >>"$out/bench.log"
  # The headline case again with every cuDNN algorithm timed (cudnnFindConvolutionForwardAlgorithmEx).
  timeout 60 "$bench_bin" --model-dir "$model_dir" --seconds 0.7 --models sd,taef2 --sizes 512 \
    --batches 8 --exhaustive >>"$out/bench.log" 2>&1 || echo "exhaustive bench exit code $?" >>"$out/bench.log"
fi
if want profile; then  # where the decoder's time goes, step by step (not in the default set)
  timeout 120 "$bench_bin" --profile --model-dir "$model_dir" --models "${DW_PROFILE_MODELS:-sd,taef2}" \
    --sizes 512 --batches 1,8 >"$out/profile.txt" 2>&1
  rc=$?
  ((rc == 0)) || echo "profile exit code $rc" >>"$out/profile.txt"
  timeout 60 "$bench_bin" --profile --unfused --model-dir "$model_dir" --models sd,taef2 --sizes 512 \
    --batches 8 >>"$out/profile.txt" 2>&1
  grep -E '^PROFILE|kind ' "$out/profile.txt" | tee -a "$summary"
fi
if want torch; then
  timeout 100 "$python" "$root/tools/bench_vae_torch_gpu.py" --model-dir "$model_dir" --seconds 0.7 \
    >"$out/torch.log" 2>&1
  rc=$?
  ((rc == 0)) || echo "torch bench exit code $rc" >>"$out/torch.log"
fi

# ---- the short table --------------------------------------------------------------------------
say "tests:    $tests_result"
say "interop:  $interop_result"
[[ -n ${interop_why:-} ]] && say "          skipped: $interop_why"
say "memcheck: $memcheck_result"
cat "$out/bench.log" "$out/torch.log" 2>/dev/null | awk '
  /^RESULT/ {
    delete f
    for (i = 2; i <= NF; ++i) { split($i, kv, "="); f[kv[1]] = kv[2] }
    key = f["model"] " " f["size"] " " f["batch"]
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    ms = ("error" in f) ? "error" : f["ms_per_frame"]
    if (f["impl"] == "ours") { ours[key] = ms; tf[key] = f["tflops"]; prec[key] = f["precision"] }
    else if (f["impl"] == "torch") { torch[key] = ms; ttf[key] = f["tflops"] }
    else extra[++m] = sprintf("%s %s: %s ms/frame, %s TFLOPS", f["impl"], key, ms, f["tflops"])
  }
  END {
    printf "%-6s %5s %5s | %9s %7s %5s | %9s %7s | %7s\n", "model", "size", "batch", "ours ms", "TFLOPS", "prec", "torch ms", "TFLOPS", "speedup"
    for (i = 1; i <= n; ++i) {
      k = order[i]; split(k, p, " ")
      o = (k in ours) ? ours[k] : "-"; t = (k in torch) ? torch[k] : "-"
      s = (o + 0 > 0 && t + 0 > 0) ? sprintf("%.2fx", t / o) : "-"
      printf "%-6s %5s %5s | %9s %7s %5s | %9s %7s | %7s\n", p[1], p[2], p[3], o, (k in tf) ? tf[k] : "-", (k in prec) ? prec[k] : "-", t, (k in ttf) ? ttf[k] : "-", s
    }
    for (i = 1; i <= m; ++i) print extra[i]
  }' | tee -a "$summary"
grep -h 'error=' "$out/bench.log" "$out/torch.log" 2>/dev/null | head -5 | tee -a "$summary"
exit 0
