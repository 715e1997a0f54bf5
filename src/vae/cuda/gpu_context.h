// What one CUDA backend works with besides its plans: the stream and library handles, and the
// device copies of a graph's weights in one precision. Both are made at start-up (or when the
// backend falls back to fp32), never per frame.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <vector>

#include "kernels/vae/types.h"
#include "vae/cuda/device_buffer.h"
#include "vae/graph.h"

namespace dw::vae::cuda {

// The stream and library handles one backend works with (one stream, explicit, non-blocking).
class GpuContext {
 public:
  GpuContext();
  ~GpuContext();
  GpuContext(const GpuContext&) = delete;
  GpuContext& operator=(const GpuContext&) = delete;
  cudaStream_t stream() const { return stream_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasHandle_t cublas() const { return cublas_; }

 private:
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  DeviceBuffer cublas_workspace_;
};

// Device copies of one graph's weights in one precision, indexed by op: conv filters as
// [cp_out, k, k, cp_in] (zero padded), conv biases fp32 [cp_out], GroupNorm gamma/beta fp32 [C].
// With phase_filters, every 3x3 stride-1 pad-1 convolution of an Upsample2x's output also gets
// its four 2x2 sub-pixel kernels [4 * cp_out, 2, 2, cp_in] (phase_filter; empty elsewhere), for
// plans that fuse the upsample into it (PlanOptions::fuse_upsample).
struct DeviceWeights {
  DType type = DType::F16;
  std::vector<DeviceBuffer> filter, bias, gamma, beta, phase_filter;
  static DeviceWeights upload(const Graph& graph, DType type, bool phase_filters = false);
};

}  // namespace dw::vae::cuda
