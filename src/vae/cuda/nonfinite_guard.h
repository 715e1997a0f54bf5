// The backend's guard against non-finite outputs (fp16 overflows). Every graph run's output is
// checked on the GPU into a device flag, which is then copied to pinned host memory with an event
// behind it. The host reads it either
//  - at once (wait_result), where the run's result goes to the host anyway and the stream is
//    synchronised for that copy (decode, encode, host frames): a bad output is redone in fp32; or
//  - one run later (defer, then take_deferred at the start of the next run), for GPU-resident
//    frames: the CPU does not wait for the GPU per run, and frames made from a bad output are
//    replaced on the GPU (FrameWriter reads the device flag) so they are never shown.
// One thread at a time (the backend's caller holds the VAE lock).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "kernels/vae/types.h"
#include "vae/cuda/device_buffer.h"

namespace dw::vae::cuda {

class NonfiniteGuard {
 public:
  explicit NonfiniteGuard(cudaStream_t stream);
  ~NonfiniteGuard();
  NonfiniteGuard(const NonfiniteGuard&) = delete;
  NonfiniteGuard& operator=(const NonfiniteGuard&) = delete;

  // Enqueues the check of `count` elements at `output`: the flag is zeroed, raised by any NaN or
  // infinity, and copied to the host. A deferred result not yet taken is dropped.
  void check(DType type, const void* output, std::size_t count);
  // The device flag of the last check, for kernels that act on it later in the stream.
  const unsigned* device_flag() const { return device_flag_.as<unsigned>(); }
  // Waits for the last check and says whether it found a non-finite value.
  bool wait_result();
  // Leaves the last check's result to take_deferred (the next run's first step).
  void defer() { deferred_ = true; }
  // Whether a deferred check found a non-finite value (waiting for it: by the time the next run
  // starts the GPU has long finished it); false when nothing was deferred. Clears the deferral.
  bool take_deferred();

 private:
  cudaStream_t stream_;
  DeviceBuffer device_flag_;
  unsigned* host_flag_ = nullptr;  // pinned
  cudaEvent_t copied_ = nullptr;
  bool deferred_ = false;
};

}  // namespace dw::vae::cuda
