#include "vae/cuda/gpu_time_meter.h"

#include "vae/cuda/cuda_check.h"

namespace dw::vae::cuda {

GpuTimeMeter::GpuTimeMeter(cudaStream_t stream) : stream_(stream) {
  for (Pair& pair : pairs_) {
    DW_CUDA_CHECK(cudaEventCreate(&pair.start));
    DW_CUDA_CHECK(cudaEventCreate(&pair.end));
  }
}

GpuTimeMeter::~GpuTimeMeter() {
  for (Pair& pair : pairs_) {
    if (pair.start) cudaEventDestroy(pair.start);
    if (pair.end) cudaEventDestroy(pair.end);
  }
}

void GpuTimeMeter::harvest(Pair& pair, bool wait) {
  if (!pair.pending) return;
  if (wait) {
    DW_CUDA_CHECK(cudaEventSynchronize(pair.end));
  } else {
    const cudaError_t state = cudaEventQuery(pair.end);
    if (state == cudaErrorNotReady) return;
    DW_CUDA_CHECK(state);
  }
  float ms = 0;
  DW_CUDA_CHECK(cudaEventElapsedTime(&ms, pair.start, pair.end));
  total_ms_ += ms;
  ++batches_;
  pair.pending = false;
}

void GpuTimeMeter::begin() {
  Pair& pair = pairs_[next_];
  harvest(pair, true);  // every pair in flight: the GPU is 8 batches behind; wait for the oldest
  DW_CUDA_CHECK(cudaEventRecord(pair.start, stream_));
  open_ = true;
}

void GpuTimeMeter::end() {
  if (!open_) return;
  Pair& pair = pairs_[next_];
  DW_CUDA_CHECK(cudaEventRecord(pair.end, stream_));
  pair.pending = true;
  open_ = false;
  next_ = (next_ + 1) % pairs_.size();
}

double GpuTimeMeter::finished_ms() {
  for (Pair& pair : pairs_) harvest(pair, false);
  return total_ms_;
}

}  // namespace dw::vae::cuda
