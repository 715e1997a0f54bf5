#include "vae/cuda/nonfinite_guard.h"

#include "kernels/vae/nonfinite.h"
#include "vae/cuda/cuda_check.h"

namespace dw::vae::cuda {

NonfiniteGuard::NonfiniteGuard(cudaStream_t stream)
    : stream_(stream), device_flag_(sizeof(unsigned)) {
  DW_CUDA_CHECK(
      cudaHostAlloc(reinterpret_cast<void**>(&host_flag_), sizeof(unsigned), cudaHostAllocDefault));
  try {
    DW_CUDA_CHECK(cudaEventCreateWithFlags(&copied_, cudaEventDisableTiming));
  } catch (...) {
    cudaFreeHost(host_flag_);
    throw;
  }
  *host_flag_ = 0;
}

NonfiniteGuard::~NonfiniteGuard() {
  if (copied_) {
    cudaEventSynchronize(copied_);  // the copy into host_flag_ must land before it is freed
    cudaEventDestroy(copied_);
  }
  if (host_flag_) cudaFreeHost(host_flag_);
}

void NonfiniteGuard::check(DType type, const void* output, std::size_t count) {
  deferred_ = false;
  DW_CUDA_CHECK(cudaMemsetAsync(device_flag_.get(), 0, sizeof(unsigned), stream_));
  ops::find_nonfinite(type, output, count, device_flag_.as<unsigned>(), stream_);
  DW_CUDA_CHECK(cudaMemcpyAsync(host_flag_, device_flag_.get(), sizeof(unsigned),
                                cudaMemcpyDeviceToHost, stream_));
  DW_CUDA_CHECK(cudaEventRecord(copied_, stream_));
}

bool NonfiniteGuard::wait_result() {
  deferred_ = false;
  DW_CUDA_CHECK(cudaEventSynchronize(copied_));
  return *host_flag_ != 0;
}

bool NonfiniteGuard::take_deferred() {
  if (!deferred_) return false;
  return wait_result();
}

}  // namespace dw::vae::cuda
