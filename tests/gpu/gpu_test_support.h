// Shared by the GPU tests: the skip guard, random tensors, small hand-built graphs, running a graph
// through a CUDA plan (outputs poisoned with NaN first) and the fp16 tolerances.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "kernels/vae/layout.h"
#include "vae/cpu_executor.h"
#include "vae/cuda/cuda_plan.h"
#include "vae/cuda_backend.h"
#include "vae/graph.h"
#include "vae/pixels.h"
#include "vae/tensor.h"

namespace dw::vae::gpu_test {

// fp16 activations with fp32 accumulation against fp32, on [0, 1] images.
constexpr double kImageRelativeError = 1e-2;
constexpr double kImagePsnr = 45.0;

// Why the CUDA runtime sees no device ("" when it sees one): the skip message says it.
inline std::string cuda_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  cudaGetLastError();
  if (status != cudaSuccess) return cudaGetErrorString(status);
  return count == 0 ? "no device" : "";
}

#define DW_SKIP_WITHOUT_CUDA()                                                  \
  do {                                                                          \
    if (!::dw::vae::cuda_device_available())                                    \
      GTEST_SKIP() << "no CUDA device on this machine ("                        \
                   << ::dw::vae::gpu_test::cuda_unavailable_reason()            \
                   << "): GPU tests run on a GPU machine (tools/gpu_check.sh)"; \
  } while (0)

inline HostTensor random_tensor(int n, int c, int h, int w, unsigned seed, float scale = 1.0f,
                                float offset = 0.0f) {
  HostTensor t(n, c, h, w);
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(offset, scale);
  for (float& v : t.data) v = dist(rng);
  return t;
}

// A graph built op by op with random weights, for testing one kernel (or one fusion) at a time.
class TinyGraph {
 public:
  explicit TinyGraph(int input_channels) { graph_.values.push_back(ValueInfo{input_channels}); }

  int conv(int x, int out, int kernel, int stride = 1, std::optional<Padding> pad = {},
           bool bias = true) {
    Op op = make(OpKind::Conv2d, {x});
    op.in_channels = channels(x);
    op.out_channels = out;
    op.kernel = kernel;
    op.stride = stride;
    const int p = kernel / 2;
    op.pad = pad.value_or(Padding{p, p, p, p});
    op.weight = weight({out, op.in_channels, kernel, kernel},
                       1.0f / std::sqrt(static_cast<float>(op.in_channels * kernel * kernel)));
    if (bias) op.bias = weight({out}, 0.1f);
    ValueInfo v = graph_.values[x];
    v.channels = out;
    v.scale_den *= stride;
    return push(op, v);
  }
  int group_norm(int x, int groups) {
    Op op = make(OpKind::GroupNorm, {x});
    op.groups = groups;
    op.eps = 1e-6f;
    op.gamma = weight({channels(x)}, 0.2f, 1.0f);
    op.beta = weight({channels(x)}, 0.2f);
    return push(op, graph_.values[x]);
  }
  int unary(OpKind kind, int x) { return push(make(kind, {x}), graph_.values[x]); }
  int add(int a, int b) { return push(make(OpKind::Add, {a, b}), graph_.values[a]); }
  int upsample(int x) {
    ValueInfo v = graph_.values[x];
    v.scale_num *= 2;
    return push(make(OpKind::Upsample2x, {x}), v);
  }
  int attention(int q, int k, int v) {
    return push(make(OpKind::Attention, {q, k, v}), graph_.values[q]);
  }
  int slice(int x, int begin, int count) {
    Op op = make(OpKind::SliceChannels, {x});
    op.begin = begin;
    ValueInfo v = graph_.values[x];
    v.channels = count;
    return push(op, v);
  }
  int channels(int value) const { return graph_.values.at(value).channels; }
  Graph finish(int output) {
    graph_.output = output;
    graph_.validate();
    return graph_;
  }

 private:
  Op make(OpKind kind, std::initializer_list<int> inputs) {
    Op op{kind};
    int i = 0;
    for (int v : inputs) op.inputs[i++] = v;
    op.name = std::string(op_kind_name(kind)) + "." + std::to_string(graph_.ops.size());
    return op;
  }
  int push(Op op, ValueInfo info) {
    op.output = static_cast<int>(graph_.values.size());
    graph_.values.push_back(info);
    graph_.ops.push_back(op);
    return op.output;
  }
  int weight(std::vector<std::int64_t> shape, float scale, float offset = 0.0f) {
    Weight w;
    w.name = "w" + std::to_string(graph_.weights.size());
    w.shape = std::move(shape);
    std::size_t n = 1;
    for (auto d : w.shape) n *= static_cast<std::size_t>(d);
    std::uniform_real_distribution<float> dist(-scale, scale);
    w.data.resize(n);
    for (float& v : w.data) v = offset + dist(rng_);
    graph_.weights.push_back(std::move(w));
    return static_cast<int>(graph_.weights.size()) - 1;
  }
  Graph graph_;
  std::mt19937 rng_{99};
};

inline HostTensor run_on_cpu(const Graph& graph, const HostTensor& input) {
  ThreadPool pool(2);
  CpuGraphRunner runner(pool);
  return runner.run(graph, input);
}

// Runs `graph` through a CUDA plan of precision `type`; every buffer of the output is NaN before
// the run, so an element the plan fails to write shows up as an error.
// `labels` (when given) receives the plan's step labels (Plan::profile), to check what it fused.
inline HostTensor run_on_gpu(const Graph& graph, const HostTensor& input, cuda::DType type,
                             const cuda::PlanOptions& options = {},
                             std::vector<std::string>* labels = nullptr) {
  using namespace cuda;
  // One stream and cuDNN/cuBLAS handle set for the whole test process (handles are slow to make,
  // above all under compute-sanitizer); never destroyed, so no teardown races the CUDA runtime's.
  static GpuContext& context = *new GpuContext();
  const DeviceWeights weights = DeviceWeights::upload(graph, type, options.fuse_upsample);
  AlgorithmCache algorithms;
  Plan plan(graph, weights, input.n, input.h, input.w, context, algorithms, options);
  DeviceBuffer staging(input.size() * sizeof(float));
  DW_CUDA_CHECK(cudaMemcpy(staging.get(), input.data.data(), input.size() * sizeof(float),
                           cudaMemcpyHostToDevice));
  // Plain cudaMemcpy/cudaMemset are not ordered before work on a non-blocking stream.
  DW_CUDA_CHECK(cudaDeviceSynchronize());
  ops::nchw_to_nhwc(type, staging.as<float>(), plan.input(), input.n, input.c,
                    plan.input_shape().cp, input.plane(), 1.0f, 0.0f, context.stream());
  const Nhwc out_shape = plan.output_shape();
  DW_CUDA_CHECK(cudaMemsetAsync(plan.output(), 0xFF, out_shape.elements() * dtype_size(type),
                                context.stream()));
  plan.run(nullptr);
  HostTensor out(out_shape.n, plan.output_channels(), out_shape.h, out_shape.w);
  DeviceBuffer result(out.size() * sizeof(float));
  ops::nhwc_to_nchw(type, plan.output(), result.as<float>(), out.n, out.c, out_shape.cp,
                    out.plane(), 1.0f, 0.0f, false, context.stream());
  DW_CUDA_CHECK(cudaStreamSynchronize(context.stream()));
  DW_CUDA_CHECK(cudaMemcpy(out.data.data(), result.get(), out.size() * sizeof(float),
                           cudaMemcpyDeviceToHost));
  if (labels) {  // the output is read: the steps may run again, one by one
    labels->clear();
    for (const StepTiming& step : plan.profile(1)) labels->push_back(step.label);
  }
  return out;
}

inline bool all_finite(const HostTensor& t) {
  for (float v : t.data)
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace dw::vae::gpu_test
