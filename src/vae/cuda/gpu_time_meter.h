// GPU time of the backend's work, measured with CUDA event pairs around each batch and read only
// once the GPU has finished them: the host never waits for the GPU to measure it (unless every
// pair is still in flight, when it waits for the oldest). It measures the stream's elapsed time,
// so it includes time the GPU spent on other processes' work while this stream had some queued.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <cstdint>

namespace dw::vae::cuda {

class GpuTimeMeter {
 public:
  explicit GpuTimeMeter(cudaStream_t stream);
  ~GpuTimeMeter();
  GpuTimeMeter(const GpuTimeMeter&) = delete;
  GpuTimeMeter& operator=(const GpuTimeMeter&) = delete;

  void begin();  // before a batch's first launch
  void end();    // after its last
  // Milliseconds of every finished batch so far, and how many batches that is.
  double finished_ms();
  std::uint64_t finished_batches() const { return batches_; }

 private:
  struct Pair {
    cudaEvent_t start = nullptr, end = nullptr;
    bool pending = false;
  };
  void harvest(Pair& pair, bool wait);

  cudaStream_t stream_;
  std::array<Pair, 8> pairs_;
  std::size_t next_ = 0;
  bool open_ = false;
  double total_ms_ = 0;
  std::uint64_t batches_ = 0;
};

}  // namespace dw::vae::cuda
