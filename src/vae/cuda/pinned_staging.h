// Host -> device uploads through pinned memory. From pageable memory, cudaMemcpyAsync may
// synchronise with the stream before it copies (CUDA's API synchronisation rules), which would
// make every batch wait for the previous one on the host; from pinned memory it never does.
// Before the staging area is written again, the host waits for the copies that read it last
// (enqueued a batch earlier, so long finished). One thread at a time.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstring>
#include <utility>

#include "vae/cuda/cuda_check.h"

namespace dw::vae::cuda {

class PinnedStaging {
 public:
  PinnedStaging() { DW_CUDA_CHECK(cudaEventCreateWithFlags(&copied_, cudaEventDisableTiming)); }
  ~PinnedStaging() {
    cudaEventSynchronize(copied_);
    if (host_) cudaFreeHost(host_);
    cudaEventDestroy(copied_);
  }
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;

  // Starts a set of uploads of at most `bytes` in all (waits for the last set's copies).
  void begin(std::size_t bytes) {
    DW_CUDA_CHECK(cudaEventSynchronize(copied_));
    used_ = 0;
    if (bytes <= capacity_) return;
    if (host_) cudaFreeHost(std::exchange(host_, nullptr));
    capacity_ = 0;
    DW_CUDA_CHECK(cudaHostAlloc(&host_, bytes, cudaHostAllocDefault));
    capacity_ = bytes;
  }
  // Copies `bytes` at `source` to `device` through the staging area, on `stream`.
  void upload(void* device, const void* source, std::size_t bytes, cudaStream_t stream) {
    const std::size_t offset = (used_ + 255) / 256 * 256;
    DW_CHECK(offset + bytes <= capacity_, "PinnedStaging: more uploaded than begin() allowed");
    char* staged = static_cast<char*>(host_) + offset;
    std::memcpy(staged, source, bytes);
    DW_CUDA_CHECK(cudaMemcpyAsync(device, staged, bytes, cudaMemcpyHostToDevice, stream));
    DW_CUDA_CHECK(cudaEventRecord(copied_, stream));
    used_ = offset + bytes;
  }
  // Room begin() needs for uploads of these sizes (each aligned to 256 bytes).
  static std::size_t room(std::initializer_list<std::size_t> sizes) {
    std::size_t total = 0;
    for (std::size_t s : sizes) total += (s + 255) / 256 * 256;
    return total;
  }

 private:
  void* host_ = nullptr;
  std::size_t capacity_ = 0, used_ = 0;
  cudaEvent_t copied_ = nullptr;
};

}  // namespace dw::vae::cuda
