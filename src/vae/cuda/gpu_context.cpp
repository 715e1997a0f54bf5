#include "vae/cuda/gpu_context.h"

#include <cuda_fp16.h>

#include <algorithm>

#include "vae/cuda/cuda_check.h"

namespace dw::vae::cuda {

GpuContext::GpuContext() {
  DW_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  DW_CUDNN_CHECK(cudnnCreate(&cudnn_));
  DW_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
  DW_CUBLAS_CHECK(cublasCreate(&cublas_));
  DW_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  // cuBLAS gets its workspace now, so no GEMM allocates later (32 MiB: NVIDIA's advice for Hopper).
  cublas_workspace_ = DeviceBuffer(std::size_t(32) << 20);
  DW_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.get(), cublas_workspace_.bytes()));
}

GpuContext::~GpuContext() {
  if (stream_) cudaStreamSynchronize(stream_);
  if (cublas_) cublasDestroy(cublas_);
  if (cudnn_) cudnnDestroy(cudnn_);
  if (stream_) cudaStreamDestroy(stream_);
}

namespace {

DeviceBuffer upload_bytes(const void* host, std::size_t bytes) {
  DeviceBuffer buffer(bytes);
  DW_CUDA_CHECK(cudaMemcpy(buffer.get(), host, bytes, cudaMemcpyHostToDevice));
  return buffer;
}

// fp32 [O, I, k, k] -> [cp_out, k, k, cp_in] of `type`, zeros in the padding.
DeviceBuffer upload_filter(const Weight& w, DType type) {
  DW_CHECK(w.shape.size() == 4 && w.shape[2] == w.shape[3],
           "conv weight " + w.name + " is not [O, I, k, k]");
  const int out = static_cast<int>(w.shape[0]), in = static_cast<int>(w.shape[1]);
  const int k = static_cast<int>(w.shape[2]);
  const int out_p = padded_channels(out), in_p = padded_channels(in);
  std::vector<float> krsc(static_cast<std::size_t>(out_p) * k * k * in_p, 0.0f);
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in; ++i)
      for (int y = 0; y < k; ++y)
        for (int x = 0; x < k; ++x)
          krsc[((static_cast<std::size_t>(o) * k + y) * k + x) * in_p + i] =
              w.data[((static_cast<std::size_t>(o) * in + i) * k + y) * k + x];
  if (type == DType::F32) return upload_bytes(krsc.data(), krsc.size() * sizeof(float));
  std::vector<__half> halves(krsc.size());
  for (std::size_t i = 0; i < krsc.size(); ++i) halves[i] = __float2half_rn(krsc[i]);
  return upload_bytes(halves.data(), halves.size() * sizeof(__half));
}

DeviceBuffer upload_vector(const Weight& w, std::size_t padded_size) {
  std::vector<float> v(std::max(padded_size, w.data.size()), 0.0f);
  std::copy(w.data.begin(), w.data.end(), v.begin());
  return upload_bytes(v.data(), v.size() * sizeof(float));
}

}  // namespace

DeviceWeights DeviceWeights::upload(const Graph& graph, DType type) {
  DeviceWeights d;
  d.type = type;
  const std::size_t ops = graph.ops.size();
  d.filter.resize(ops);
  d.bias.resize(ops);
  d.gamma.resize(ops);
  d.beta.resize(ops);
  for (std::size_t i = 0; i < ops; ++i) {
    const Op& op = graph.ops[i];
    if (op.kind == OpKind::Conv2d) {
      d.filter[i] = upload_filter(graph.weights.at(op.weight), type);
      if (op.bias >= 0)
        d.bias[i] = upload_vector(graph.weights.at(op.bias), padded_channels(op.out_channels));
    } else if (op.kind == OpKind::GroupNorm) {
      d.gamma[i] = upload_vector(graph.weights.at(op.gamma), 0);
      d.beta[i] = upload_vector(graph.weights.at(op.beta), 0);
    }
  }
  // cudaMemcpy from pageable memory may return before its DMA lands, and the backend's stream is
  // non-blocking (not ordered after the legacy stream): wait here, once, at start-up.
  DW_CUDA_CHECK(cudaDeviceSynchronize());
  return d;
}

}  // namespace dw::vae::cuda
