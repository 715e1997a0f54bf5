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

DeviceBuffer upload_as(const std::vector<float>& values, DType type) {
  if (type == DType::F32) return upload_bytes(values.data(), values.size() * sizeof(float));
  std::vector<__half> halves(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) halves[i] = __float2half_rn(values[i]);
  return upload_bytes(halves.data(), halves.size() * sizeof(__half));
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
  return upload_as(krsc, type);
}

// The 3x3 kernel rows (or columns) that low-resolution tap r of output phase a sums, for the
// x2 upsample fused into a 3x3 convolution (kernels/vae/layout.h, phases_to_space): phase 0 reads
// rows i-1 (kernel row 0) and i (rows 1 and 2), phase 1 rows i (rows 0 and 1) and i+1 (row 2).
constexpr int kPhaseTaps[2][2][2] = {{{0, -1}, {1, 2}}, {{0, 1}, {2, -1}}};

// fp32 [O, I, 3, 3] -> the four 2x2 phase kernels [4 * cp_out, 2, 2, cp_in] (phase 2a + b is
// channel block 2a + b), sums taken in double.
DeviceBuffer upload_phase_filter(const Weight& w, DType type) {
  const int out = static_cast<int>(w.shape[0]), in = static_cast<int>(w.shape[1]);
  const int out_p = padded_channels(out), in_p = padded_channels(in);
  std::vector<float> krsc(static_cast<std::size_t>(4) * out_p * 4 * in_p, 0.0f);
  auto weight = [&](int o, int i, int y, int x) {
    return w.data[((static_cast<std::size_t>(o) * in + i) * 3 + y) * 3 + x];
  };
  for (int phase = 0; phase < 4; ++phase)
    for (int o = 0; o < out; ++o)
      for (int i = 0; i < in; ++i)
        for (int r = 0; r < 2; ++r)
          for (int c = 0; c < 2; ++c) {
            double sum = 0;
            for (int y : kPhaseTaps[phase / 2][r])
              for (int x : kPhaseTaps[phase % 2][c])
                if (y >= 0 && x >= 0) sum += weight(o, i, y, x);
            const std::size_t row = static_cast<std::size_t>(phase) * out_p + o;
            krsc[((row * 2 + r) * 2 + c) * in_p + i] = static_cast<float>(sum);
          }
  return upload_as(krsc, type);
}

// Whether op `index` is a 3x3, stride 1, pad 1 convolution of an Upsample2x's output: the shape
// the plan can fuse (PlanOptions::fuse_upsample).
bool follows_upsample(const Graph& graph, std::size_t index) {
  const Op& op = graph.ops[index];
  if (op.kind != OpKind::Conv2d || op.kernel != 3 || op.stride != 1 || op.pad.top != 1 ||
      op.pad.bottom != 1 || op.pad.left != 1 || op.pad.right != 1)
    return false;
  for (std::size_t i = 0; i < index; ++i)
    if (graph.ops[i].output == op.inputs[0]) return graph.ops[i].kind == OpKind::Upsample2x;
  return false;
}

DeviceBuffer upload_vector(const Weight& w, std::size_t padded_size) {
  std::vector<float> v(std::max(padded_size, w.data.size()), 0.0f);
  std::copy(w.data.begin(), w.data.end(), v.begin());
  return upload_bytes(v.data(), v.size() * sizeof(float));
}

}  // namespace

DeviceWeights DeviceWeights::upload(const Graph& graph, DType type, bool phase_filters) {
  DeviceWeights d;
  d.type = type;
  const std::size_t ops = graph.ops.size();
  d.filter.resize(ops);
  d.phase_filter.resize(ops);
  d.bias.resize(ops);
  d.gamma.resize(ops);
  d.beta.resize(ops);
  for (std::size_t i = 0; i < ops; ++i) {
    const Op& op = graph.ops[i];
    if (op.kind == OpKind::Conv2d) {
      d.filter[i] = upload_filter(graph.weights.at(op.weight), type);
      if (phase_filters && follows_upsample(graph, i))
        d.phase_filter[i] = upload_phase_filter(graph.weights.at(op.weight), type);
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
