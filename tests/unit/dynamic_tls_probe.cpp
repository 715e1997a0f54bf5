// A shared library with dynamic TLS, loaded with dlopen by asan_dynamic_tls_test.cpp: like libLLVM
// under Mesa's llvmpipe, its thread_local block is reached through __tls_get_addr and allocated by
// glibc with malloc on a thread's first access.
#include <cstddef>
#include <cstdlib>

namespace {

struct alignas(16) Slot {
  void* held;
  char pad[8];
};
thread_local Slot slot;

}  // namespace

extern "C" {

// The size glibc passes to malloc for this library's TLS block.
std::size_t dw_tls_probe_size() {
  return sizeof(Slot);
}

// The calling thread's block (allocated on the first call).
void* dw_tls_probe_block() {
  return &slot;
}

// Allocates `bytes` and keeps the only pointer to them in the calling thread's block.
void dw_tls_probe_hold_new(std::size_t bytes) {
  slot.held = std::malloc(bytes);
}
}
