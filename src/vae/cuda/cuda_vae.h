// The CUDA backend's own interface beyond VaeBackend, for the tests and the benchmark: options
// that the config does not carry, the precision in use, and the plan cache.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/vae/types.h"
#include "vae/backend.h"

namespace dw::vae::cuda {

struct CudaBackendOptions {
  bool fp16 = true;                // false: fp32 from the start
  bool exhaustive_search = false;  // time every cuDNN algorithm once per shape (slower plans)
  std::size_t workspace_limit = std::size_t(512) << 20;
  std::size_t max_plans = 4;  // plans kept (least recently used dropped first)
  bool cuda_graphs = true;    // replay each plan as a CUDA graph from its second run on
  // Experimental (PlanOptions::fuse_upsample): off until a GPU run has proven it faster.
  bool fuse_upsample = false;
  DevicePixelFormat frame_format = DevicePixelFormat::Rgba8;
  // interpolate_to_frames writes host RGBA8 frames (one device-to-host copy per frame) instead of
  // GPU-resident ones: the path for displays without CUDA-GL interop.
  bool host_frames = false;
};

// What the backend did, for the benchmarks and its exit log line.
struct BackendCounters {
  std::uint64_t device_frames = 0;     // GPU-resident frames written (no host copy)
  std::uint64_t host_frames = 0;       // frames copied to the host (displays without interop)
  std::uint64_t previews = 0;          // small frame previews copied to the host (for the cache)
  std::uint64_t replaced_batches = 0;  // frame batches found non-finite after they were written
  double gpu_ms = 0;                   // GPU time of interpolate_to_frames batches finished so far
  std::uint64_t gpu_batches = 0;       // how many batches gpu_ms covers
};

class CudaVaeBackend : public VaeBackend {
 public:
  // fp16 until an output held a non-finite value, fp32 after that (or from the start).
  virtual DType precision() const = 0;
  virtual std::size_t plan_count() const = 0;
  // Waits for all work enqueued by this backend.
  virtual void synchronize() = 0;
  // The one stream all of the backend's work is enqueued on (tests order work around it).
  virtual cudaStream_t stream() const = 0;
  virtual BackendCounters counters() = 0;
};

std::unique_ptr<CudaVaeBackend> make_cuda_vae_backend(std::shared_ptr<const VaeModel> model,
                                                      const CudaBackendOptions& options);

}  // namespace dw::vae::cuda
