// Owning device allocations for the CUDA backend. Allocation happens only where plans are built
// and at start-up, never per frame.
#pragma once

#include <cstddef>
#include <utility>

#include "vae/cuda/cuda_check.h"

namespace dw::vae::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes_ > 0) DW_CUDA_CHECK(cudaMalloc(&data_, bytes_));
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { reset(); }

  // Grows (dropping the contents) when smaller than `bytes`.
  void reserve(std::size_t bytes) {
    if (bytes <= bytes_) return;
    reset();
    DW_CUDA_CHECK(cudaMalloc(&data_, bytes));
    bytes_ = bytes;
  }
  void* get() const { return data_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  // cudaFree "may" wait for work still using the memory, no more (CUDA 12+): the device is
  // waited for first. Buffers are dropped only when they grow or go, never per frame.
  void reset() noexcept {
    if (data_) {
      cudaDeviceSynchronize();
      cudaFree(data_);  // destructors never throw; a failed free is not recoverable
      // Nor does a failure here stay behind as this thread's last error, for the next launch
      // check to blame on a kernel that ran fine (a sticky device fault is reported there anyway).
      cudaGetLastError();
    }
    data_ = nullptr;
    bytes_ = 0;
  }
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace dw::vae::cuda
