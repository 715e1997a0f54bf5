# Sourced by scripts/setup.sh and scripts/test.sh: the one answer to "build the CUDA backend here?".
# It looks where CMake's find_path/find_library (top-level CMakeLists.txt, cuda preset) look, so a
# script never picks the cuda preset on a machine where CMake would then find no cuDNN, or the
# reverse: nvcc from the cuda preset's /usr/local/cuda, cudnn.h and libcudnn.so in the toolkit or
# in the system folders.

dw_multiarch() {
  gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu
}

# True when nvcc, cudnn.h and libcudnn.so are all present.
dw_have_cuda() {
  [ -x /usr/local/cuda/bin/nvcc ] || return 1
  local arch dir header="" library=""
  arch=$(dw_multiarch)
  for dir in /usr/local/cuda/include /usr/include "/usr/include/$arch"; do
    [ -f "$dir/cudnn.h" ] && header=$dir
  done
  for dir in /usr/local/cuda/lib64 /usr/local/cuda/lib "/usr/lib/$arch" /usr/lib /usr/lib64; do
    compgen -G "$dir/libcudnn.so*" >/dev/null && library=$dir
  done
  [ -n "$header" ] && [ -n "$library" ]
}

# The configure preset for this machine's normal build: cuda where dw_have_cuda, else cpu.
dw_build_preset() {
  if dw_have_cuda; then echo cuda; else echo cpu; fi
}
