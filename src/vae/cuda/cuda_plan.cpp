#include "vae/cuda/cuda_plan.h"

#include <cuda_fp16.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

#include "vae/cuda/cuda_check.h"

// The legacy convolution API (cudnnConvolutionForward and friends) is deprecated in cuDNN 9 but
// fully supported; it is what picks an algorithm once per shape here.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace dw::vae::cuda {

// ---- context and weights -------------------------------------------------------------------

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

// ---- steps ---------------------------------------------------------------------------------

struct Plan::ConvStep {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t filter = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ConvAlgorithm algorithm;
  bool explicit_pad = false;  // asymmetric padding: padded copy first, then cuDNN with pad 0
  Nhwc x_shape;               // what cuDNN reads (after the explicit pad)
  Nhwc y_shape;
  int batch_per_call = 1;  // cuDNN takes at most INT_MAX elements per tensor
  std::string signature;
  // Bias, residual and ReLU inside cuDNN's convolution (cudnnConvolutionBiasActivationForward),
  // when cuDNN runs it for this shape; else the separate epilogue kernel.
  bool fused = false;
  cudnnTensorDescriptor_t bias = nullptr;
  cudnnActivationDescriptor_t activation = nullptr;
  DeviceBuffer bias_data;  // [cp] in the bias descriptor's type; zeros where there is no bias

  ~ConvStep() {
    if (bias) cudnnDestroyTensorDescriptor(bias);
    if (activation) cudnnDestroyActivationDescriptor(activation);
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (filter) cudnnDestroyFilterDescriptor(filter);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

enum class StepKind { Conv, GroupNorm, Unary, Add, Upsample, Attention, Slice };

struct Plan::Step {
  StepKind kind;
  int op = -1;
  int in[3] = {-1, -1, -1};
  int out = -1;
  int residual = -1;          // Conv: fused residual add
  bool relu = false;          // Conv: fused ReLU
  bool silu = false;          // GroupNorm: fused SiLU
  int bias_from = -1;         // GroupNorm: op whose conv bias it adds to its input (-1: none)
  bool bias_in_next = false;  // Conv: its bias is added by the GroupNorm that reads it
  Unary unary = Unary::ReLU;
  int conv = -1;            // index into convs_
  int attention_chunk = 1;  // Attention: batch items per GEMM pair (bounded scratch)
};

namespace {

cudnnDataType_t cudnn_type(DType type) {
  return type == DType::F16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
}
cudaDataType_t blas_type(DType type) {
  return type == DType::F16 ? CUDA_R_16F : CUDA_R_32F;
}

bool single_reader(const std::vector<int>& readers, const Graph& graph, int value) {
  return readers[value] == 1 && value != graph.output;
}

}  // namespace

Plan::Plan(const Graph& graph, const DeviceWeights& weights, int n, int h, int w,
           GpuContext& context, AlgorithmCache& algorithms, const PlanOptions& options)
    : graph_(graph), weights_(weights), context_(context) {
  DW_CHECK(n > 0 && h > 0 && w > 0, "CUDA plan: empty input shape");
  // Every value's size must be a whole number of pixels, as on the CPU.
  for (const ValueInfo& v : graph.values)
    if ((static_cast<long long>(h) * v.scale_num) % v.scale_den != 0 ||
        (static_cast<long long>(w) * v.scale_num) % v.scale_den != 0)
      throw Error("input size " + std::to_string(h) + "x" + std::to_string(w) +
                  " is not divisible by the model's downscale " + std::to_string(v.scale_den));
  shapes_.resize(graph.values.size());
  shapes_[0] = Nhwc{n, h, w, padded_channels(graph.values[0].channels)};
  for (const Op& op : graph.ops) {
    Nhwc s = shapes_.at(op.inputs[0]);
    if (op.kind == OpKind::Conv2d) {
      s.h = (s.h + op.pad.top + op.pad.bottom - op.kernel) / op.stride + 1;
      s.w = (s.w + op.pad.left + op.pad.right - op.kernel) / op.stride + 1;
    } else if (op.kind == OpKind::Upsample2x) {
      s.h *= 2;
      s.w *= 2;
    }
    s.cp = padded_channels(graph.values.at(op.output).channels);
    DW_CHECK(s.h > 0 && s.w > 0, "CUDA plan: " + op.name + " has an empty output");
    shapes_[op.output] = s;
  }
  attention_scratch_limit_ = options.attention_scratch_limit;
  use_graph_ = options.cuda_graph;
  build_steps();
  assign_buffers();
  prepare_convolutions(algorithms, options);
}

void Plan::build_steps() {
  const Graph& g = graph_;
  std::vector<int> readers(g.values.size(), 0);
  for (const Op& op : g.ops)
    for (int v : op.inputs)
      if (v >= 0) ++readers[v];
  const int count = static_cast<int>(g.ops.size());
  auto next_is = [&](int i, OpKind kind, int input) {
    return i < count && g.ops[i].kind == kind &&
           (g.ops[i].inputs[0] == input || (kind == OpKind::Add && g.ops[i].inputs[1] == input));
  };
  for (int i = 0; i < count; ++i) {
    const Op& op = g.ops[i];
    Step s;
    s.op = i;
    s.out = op.output;
    std::copy(std::begin(op.inputs), std::end(op.inputs), s.in);
    switch (op.kind) {
      case OpKind::Conv2d:
        s.kind = StepKind::Conv;
        // conv -> [add residual] -> [relu], each fused when it is the only reader.
        if (single_reader(readers, g, s.out) && next_is(i + 1, OpKind::Add, s.out)) {
          const Op& add = g.ops[i + 1];
          const int other = add.inputs[0] == s.out ? add.inputs[1] : add.inputs[0];
          if (other != s.out) {
            s.residual = other;
            s.out = add.output;
            ++i;
          }
        }
        if (single_reader(readers, g, s.out) && next_is(i + 1, OpKind::ReLU, s.out)) {
          s.relu = true;
          s.out = g.ops[i + 1].output;
          ++i;
        }
        // conv -> GroupNorm alone: the norm adds the bias as it reads (one pass fewer).
        s.bias_in_next = s.residual < 0 && !s.relu && op.bias >= 0 &&
                         single_reader(readers, g, s.out) &&
                         next_is(i + 1, OpKind::GroupNorm, s.out);
        break;
      case OpKind::GroupNorm:
        s.kind = StepKind::GroupNorm;
        if (!steps_.empty() && steps_.back().bias_in_next) s.bias_from = steps_.back().op;
        if (single_reader(readers, g, s.out) && next_is(i + 1, OpKind::SiLU, s.out)) {
          s.silu = true;
          s.out = g.ops[i + 1].output;
          ++i;
        }
        break;
      case OpKind::SiLU:
      case OpKind::ReLU:
      case OpKind::TanhClamp:
        s.kind = StepKind::Unary;
        s.unary = op.kind == OpKind::SiLU   ? Unary::SiLU
                  : op.kind == OpKind::ReLU ? Unary::ReLU
                                            : Unary::TanhClamp;
        break;
      case OpKind::Add:
        s.kind = StepKind::Add;
        break;
      case OpKind::Upsample2x:
        s.kind = StepKind::Upsample;
        break;
      case OpKind::Attention:
        s.kind = StepKind::Attention;
        DW_CHECK(g.values[op.inputs[0]].channels % 8 == 0,
                 "CUDA backend: attention width must be a multiple of 8 (" + op.name + ")");
        break;
      case OpKind::SliceChannels:
        s.kind = StepKind::Slice;
        break;
    }
    steps_.push_back(s);
  }
}

void Plan::assign_buffers() {
  const std::size_t elem = dtype_size(weights_.type);
  const int values = static_cast<int>(graph_.values.size());
  const int steps = static_cast<int>(steps_.size());
  std::vector<int> last_use(values, -1);
  for (int s = 0; s < steps; ++s) {
    for (int v : steps_[s].in)
      if (v >= 0) last_use[v] = s;
    if (steps_[s].residual >= 0) last_use[steps_[s].residual] = s;
  }
  last_use[graph_.output] = steps;
  last_use[0] = steps;  // the input buffer is the plan's own, never reused

  value_buffer_.assign(values, -1);
  std::vector<bool> free_buffer;
  auto bytes_of = [&](int v) { return shapes_[v].elements() * elem; };
  auto take = [&](int v) {
    const std::size_t need = bytes_of(v);
    int best = -1;
    for (int b = 0; b < static_cast<int>(buffer_bytes_.size()); ++b) {
      if (!free_buffer[b]) continue;
      // Smallest buffer that fits, else the largest one (it grows).
      const bool fits = buffer_bytes_[b] >= need;
      if (best < 0) {
        best = b;
        continue;
      }
      const bool best_fits = buffer_bytes_[best] >= need;
      if (fits && (!best_fits || buffer_bytes_[b] < buffer_bytes_[best])) best = b;
      if (!fits && !best_fits && buffer_bytes_[b] > buffer_bytes_[best]) best = b;
    }
    if (best < 0) {
      best = static_cast<int>(buffer_bytes_.size());
      buffer_bytes_.push_back(0);
      free_buffer.push_back(false);
    }
    buffer_bytes_[best] = std::max(buffer_bytes_[best], need);
    free_buffer[best] = false;
    value_buffer_[v] = best;
  };
  take(0);
  for (int s = 0; s < steps; ++s) {
    Step& step = steps_[s];
    const bool elementwise = step.kind == StepKind::Unary || step.kind == StepKind::GroupNorm ||
                             step.kind == StepKind::Add;
    int reused = -1;
    if (elementwise) {
      for (int k = 0; k < (step.kind == StepKind::Add ? 2 : 1); ++k) {
        const int v = step.in[k];
        if (last_use[v] == s && v != 0 && bytes_of(v) == bytes_of(step.out)) {
          reused = v;
          break;
        }
      }
    }
    if (reused >= 0)
      value_buffer_[step.out] = value_buffer_[reused];
    else
      take(step.out);
    auto release = [&](int v) {
      if (v >= 0 && last_use[v] == s && v != reused && value_buffer_[v] >= 0 &&
          value_buffer_[v] != value_buffer_[step.out])
        free_buffer[value_buffer_[v]] = true;
    };
    for (int v : step.in) release(v);
    release(step.residual);
  }
  for (std::size_t bytes : buffer_bytes_) buffers_.emplace_back(bytes);

  // Scratch sized for the largest step that needs it.
  std::size_t norm_floats = 0, scores = 0, probabilities = 0;
  for (Step& step : steps_) {
    const Op& op = graph_.ops[step.op];
    if (step.kind == StepKind::GroupNorm)
      norm_floats = std::max(
          norm_floats, group_norm_scratch_floats(shapes_[step.in[0]],
                                                 graph_.values[op.inputs[0]].channels, op.groups));
    if (step.kind == StepKind::Attention) {
      const Nhwc s = shapes_[step.in[0]];
      const std::size_t tokens = static_cast<std::size_t>(s.h) * s.w;
      const std::size_t per_item = tokens * tokens * (sizeof(float) + elem);
      step.attention_chunk = static_cast<int>(std::clamp<std::size_t>(
          attention_scratch_limit_ / std::max<std::size_t>(per_item, 1), 1, s.n));
      scores = std::max(scores, tokens * tokens * step.attention_chunk * sizeof(float));
      probabilities = std::max(probabilities, tokens * tokens * step.attention_chunk * elem);
    }
  }
  norm_scratch_ = DeviceBuffer(norm_floats * sizeof(float));
  scores_ = DeviceBuffer(scores);
  probabilities_ = DeviceBuffer(probabilities);
}

void Plan::prepare_convolutions(AlgorithmCache& algorithms, const PlanOptions& options) {
  const DType type = weights_.type;
  const std::size_t elem = dtype_size(type);
  std::size_t pad_bytes = 0, workspace = 0;
  for (Step& step : steps_) {
    if (step.kind != StepKind::Conv) continue;
    const Op& op = graph_.ops[step.op];
    auto c = std::make_unique<ConvStep>();
    const Nhwc in = shapes_[step.in[0]];
    c->y_shape = shapes_[step.out];
    c->explicit_pad = op.pad.top != op.pad.bottom || op.pad.left != op.pad.right;
    c->x_shape = in;
    int pad_h = op.pad.top, pad_w = op.pad.left;
    if (c->explicit_pad) {
      c->x_shape.h += op.pad.top + op.pad.bottom;
      c->x_shape.w += op.pad.left + op.pad.right;
      pad_h = pad_w = 0;
      pad_bytes = std::max(pad_bytes, c->x_shape.elements() * elem);
    }
    // Largest batch divisor that keeps both tensors under INT_MAX elements.
    const std::size_t per_item =
        std::max(c->x_shape.elements(), c->y_shape.elements()) / static_cast<std::size_t>(in.n);
    for (int d = in.n; d >= 1; --d)
      if (in.n % d == 0 && per_item * d <= static_cast<std::size_t>(INT_MAX)) {
        c->batch_per_call = d;
        break;
      }
    DW_CHECK(per_item <= static_cast<std::size_t>(INT_MAX),
             "CUDA backend: one image of " + op.name + " is too large for cuDNN");
    const int d = c->batch_per_call;
    DW_CUDNN_CHECK(cudnnCreateTensorDescriptor(&c->x));
    DW_CUDNN_CHECK(cudnnCreateTensorDescriptor(&c->y));
    DW_CUDNN_CHECK(cudnnCreateFilterDescriptor(&c->filter));
    DW_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&c->conv));
    DW_CUDNN_CHECK(cudnnSetTensor4dDescriptor(c->x, CUDNN_TENSOR_NHWC, cudnn_type(type), d,
                                              c->x_shape.cp, c->x_shape.h, c->x_shape.w));
    DW_CUDNN_CHECK(cudnnSetTensor4dDescriptor(c->y, CUDNN_TENSOR_NHWC, cudnn_type(type), d,
                                              c->y_shape.cp, c->y_shape.h, c->y_shape.w));
    DW_CUDNN_CHECK(cudnnSetFilter4dDescriptor(c->filter, cudnn_type(type), CUDNN_TENSOR_NHWC,
                                              c->y_shape.cp, c->x_shape.cp, op.kernel, op.kernel));
    // fp32 accumulation in both precisions.
    DW_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(c->conv, pad_h, pad_w, op.stride, op.stride, 1,
                                                   1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    int on = 0, oc = 0, oh = 0, ow = 0;
    DW_CUDNN_CHECK(
        cudnnGetConvolution2dForwardOutputDim(c->conv, c->x, c->filter, &on, &oc, &oh, &ow));
    DW_CHECK(on == d && oc == c->y_shape.cp && oh == c->y_shape.h && ow == c->y_shape.w,
             "CUDA backend: cuDNN's output shape for " + op.name + " differs from the graph's");
    c->signature = std::string(dtype_name(type)) + " n" + std::to_string(d) + " " +
                   std::to_string(c->x_shape.h) + "x" + std::to_string(c->x_shape.w) + "x" +
                   std::to_string(c->x_shape.cp) + " -> " + std::to_string(c->y_shape.cp) + " k" +
                   std::to_string(op.kernel) + " s" + std::to_string(op.stride) + " p" +
                   std::to_string(pad_h) + "," + std::to_string(pad_w);

    // fp16 runs on tensor cores; the fp32 fallback stays true fp32 (no TF32). The math type is
    // set before the heuristics or the search run: they only offer algorithms of the descriptor's
    // math type, and the default math type gave fp16 convolutions without tensor cores on an
    // H100 (14-27 TFLOPS; docs/benchmarks.md).
    const cudnnMathType_t wanted_math = type == DType::F16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    DW_CUDNN_CHECK(cudnnSetConvolutionMathType(c->conv, wanted_math));
    auto try_algorithm = [&](cudnnConvolutionFwdAlgo_t algo, cudnnMathType_t math) {
      if (type == DType::F32) {
        if (math == CUDNN_TENSOR_OP_MATH || math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
          return false;
        math = CUDNN_FMA_MATH;
      } else if (math == CUDNN_DEFAULT_MATH) {
        math = CUDNN_TENSOR_OP_MATH;
      }
      if (cudnnSetConvolutionMathType(c->conv, math) != CUDNN_STATUS_SUCCESS) return false;
      std::size_t bytes = 0;
      if (cudnnGetConvolutionForwardWorkspaceSize(context_.cudnn(), c->x, c->filter, c->conv, c->y,
                                                  algo, &bytes) != CUDNN_STATUS_SUCCESS ||
          bytes > options.workspace_limit)
        return false;
      c->algorithm = ConvAlgorithm{static_cast<int>(algo), static_cast<int>(math), bytes};
      return true;
    };
    bool chosen = false;
    if (const auto found = algorithms.find(c->signature); found != algorithms.end()) {
      chosen = try_algorithm(static_cast<cudnnConvolutionFwdAlgo_t>(found->second.algorithm),
                             static_cast<cudnnMathType_t>(found->second.math));
    }
    if (!chosen) {
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      int returned = 0;
      if (options.exhaustive_search) {
        // Runs every algorithm once on this plan's own buffers (contents are overwritten later).
        DeviceBuffer trial_workspace(options.workspace_limit);
        DeviceBuffer trial_x(c->x_shape.elements() / c->x_shape.n * d * elem);
        DW_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
            context_.cudnn(), c->x, trial_x.get(), c->filter, weights_.filter[step.op].get(),
            c->conv, c->y, data(step.out), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf,
            trial_workspace.get(), trial_workspace.bytes()));
      } else {
        DW_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
            context_.cudnn(), c->x, c->filter, c->conv, c->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
            &returned, perf));
      }
      // A heuristic's pick is run once here (on scratch input, into this plan's own output
      // buffer) so that an algorithm cuDNN cannot launch for this shape is passed over now,
      // with a log line, rather than failing the first frame.
      for (int i = 0; i < returned && !chosen; ++i) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS ||
            !try_algorithm(perf[i].algo, perf[i].mathType))
          continue;
        chosen = options.exhaustive_search || trial_run(*c, step);
      }
      if (!chosen)
        throw Error("cuDNN offers no usable forward algorithm for " + op.name + " (" +
                    c->signature + ")");
      algorithms[c->signature] = c->algorithm;
    }
    const bool has_epilogue =
        (op.bias >= 0 && !step.bias_in_next) || step.residual >= 0 || step.relu;
    if (has_epilogue && options.fused_epilogue) c->fused = try_fused(*c, step);
    workspace = std::max(workspace, c->algorithm.workspace);
    step.conv = static_cast<int>(convs_.size());
    convs_.push_back(std::move(c));
  }
  trial_input_ = DeviceBuffer();
  trial_workspace_ = DeviceBuffer();
  pad_scratch_ = DeviceBuffer(pad_bytes);
  workspace_ = DeviceBuffer(workspace);
}

bool Plan::try_fused(ConvStep& c, const Step& step) {
  const Op& op = graph_.ops[step.op];
  const int cp = c.y_shape.cp;
  std::vector<float> bias(static_cast<std::size_t>(cp), 0.0f);
  if (op.bias >= 0 && !step.bias_in_next) {
    const Weight& b = graph_.weights.at(op.bias);
    std::copy(b.data.begin(), b.data.end(), bias.begin());
  }
  DW_CUDNN_CHECK(cudnnCreateActivationDescriptor(&c.activation));
  DW_CUDNN_CHECK(cudnnSetActivationDescriptor(
      c.activation, step.relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
      CUDNN_NOT_PROPAGATE_NAN, 0.0));
  DW_CUDNN_CHECK(cudnnCreateTensorDescriptor(&c.bias));
  const std::size_t elem = dtype_size(weights_.type);
  trial_input_.reserve(c.x_shape.elements() / c.x_shape.n * c.batch_per_call * elem);
  trial_workspace_.reserve(c.algorithm.workspace);
  // The bias in the data's own type first (cuDNN's pseudo-half configuration), then fp32.
  std::vector<cudnnDataType_t> bias_types = {cudnn_type(weights_.type)};
  if (weights_.type == DType::F16) bias_types.push_back(CUDNN_DATA_FLOAT);
  cudnnStatus_t status = CUDNN_STATUS_NOT_SUPPORTED;
  for (const cudnnDataType_t bias_type : bias_types) {
    DW_CUDNN_CHECK(cudnnSetTensor4dDescriptor(c.bias, CUDNN_TENSOR_NHWC, bias_type, 1, cp, 1, 1));
    if (bias_type == CUDNN_DATA_HALF) {
      std::vector<__half> halves(bias.size());
      for (std::size_t i = 0; i < bias.size(); ++i) halves[i] = __float2half_rn(bias[i]);
      c.bias_data = DeviceBuffer(halves.size() * sizeof(__half));
      DW_CUDA_CHECK(cudaMemcpy(c.bias_data.get(), halves.data(), c.bias_data.bytes(),
                               cudaMemcpyHostToDevice));
    } else {
      c.bias_data = DeviceBuffer(bias.size() * sizeof(float));
      DW_CUDA_CHECK(
          cudaMemcpy(c.bias_data.get(), bias.data(), c.bias_data.bytes(), cudaMemcpyHostToDevice));
    }
    const float one = 1.0f, alpha2 = step.residual >= 0 ? 1.0f : 0.0f;
    void* y = data(step.out);
    const void* z = step.residual >= 0 ? data(step.residual) : y;
    status = cudnnConvolutionBiasActivationForward(
        context_.cudnn(), &one, c.x, trial_input_.get(), c.filter, weights_.filter[step.op].get(),
        c.conv, static_cast<cudnnConvolutionFwdAlgo_t>(c.algorithm.algorithm),
        trial_workspace_.get(), c.algorithm.workspace, &alpha2, c.y, z, c.bias, c.bias_data.get(),
        c.activation, c.y, y);
    if (status == CUDNN_STATUS_SUCCESS) return true;
  }
  spdlog::debug("vae cuda: no fused bias/activation for {} ({}): separate epilogue", c.signature,
                cudnnGetErrorString(status));
  c.bias_data = DeviceBuffer();
  return false;
}

bool Plan::trial_run(const ConvStep& c, const Step& step) {
  const std::size_t elem = dtype_size(weights_.type);
  trial_input_.reserve(c.x_shape.elements() / c.x_shape.n * c.batch_per_call * elem);
  trial_workspace_.reserve(c.algorithm.workspace);
  const float one = 1.0f, zero = 0.0f;
  const cudnnStatus_t status = cudnnConvolutionForward(
      context_.cudnn(), &one, c.x, trial_input_.get(), c.filter, weights_.filter[step.op].get(),
      c.conv, static_cast<cudnnConvolutionFwdAlgo_t>(c.algorithm.algorithm), trial_workspace_.get(),
      c.algorithm.workspace, &zero, c.y, data(step.out));
  if (status == CUDNN_STATUS_SUCCESS) return true;
  spdlog::warn("vae cuda: cuDNN algorithm {} cannot run {} ({}): trying the next one",
               c.algorithm.algorithm, c.signature, cudnnGetErrorString(status));
  return false;
}

std::size_t Plan::device_bytes() const {
  std::size_t total = workspace_.bytes() + pad_scratch_.bytes() + norm_scratch_.bytes() +
                      scores_.bytes() + probabilities_.bytes();
  for (const DeviceBuffer& b : buffers_) total += b.bytes();
  return total;
}

// ---- running -------------------------------------------------------------------------------

void Plan::run(const std::atomic<bool>* cancel) {
  // The first run is eager, so a failing step reports itself with its own call and line.
  if (use_graph_ && runs_ == 1 && !graph_exec_) capture_graph();
  ++runs_;
  if (graph_exec_) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled("VAE run cancelled");
    DW_CUDA_CHECK(cudaGraphLaunch(graph_exec_, context_.stream()));
    return;
  }
  run_steps(cancel);
}

// Captures run_steps into a graph. A capture cuDNN or cuBLAS refuses leaves the plan eager, with
// a log line; nothing captured has run, so nothing is lost.
void Plan::capture_graph() {
  use_graph_ = false;  // one attempt per plan
  const cudaStream_t stream = context_.stream();
  cudaGraph_t graph = nullptr;
  DW_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  std::string failure;
  try {
    run_steps(nullptr);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  const cudaError_t ended = cudaStreamEndCapture(stream, &graph);
  if (failure.empty() && ended != cudaSuccess) failure = cudaGetErrorString(ended);
  if (failure.empty()) {
    const cudaError_t made = cudaGraphInstantiate(&graph_exec_, graph, 0);
    if (made != cudaSuccess) {
      failure = cudaGetErrorString(made);
      graph_exec_ = nullptr;
    }
  }
  if (graph) cudaGraphDestroy(graph);
  if (!failure.empty()) {
    cudaGetLastError();  // capture errors are not sticky; clear them for the eager runs
    spdlog::warn("vae cuda: running this plan without a CUDA graph (capture failed: {})", failure);
  }
}

Plan::~Plan() {
  if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
}

void Plan::run_steps(const std::atomic<bool>* cancel) {
  for (const Step& step : steps_) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled("VAE run cancelled");
    run_step(step);
  }
}

std::vector<StepTiming> Plan::profile(int repeats) {
  const cudaStream_t stream = context_.stream();
  std::vector<cudaEvent_t> events(steps_.size() + 1, nullptr);
  for (auto& e : events) DW_CUDA_CHECK(cudaEventCreate(&e));
  std::vector<StepTiming> out(steps_.size());
  try {
    for (int r = 0; r < std::max(repeats, 1); ++r) {
      DW_CUDA_CHECK(cudaEventRecord(events[0], stream));
      for (std::size_t i = 0; i < steps_.size(); ++i) {
        run_step(steps_[i]);
        DW_CUDA_CHECK(cudaEventRecord(events[i + 1], stream));
      }
      DW_CUDA_CHECK(cudaEventSynchronize(events.back()));
      for (std::size_t i = 0; i < steps_.size(); ++i) {
        float ms = 0;
        DW_CUDA_CHECK(cudaEventElapsedTime(&ms, events[i], events[i + 1]));
        out[i].ms = r == 0 ? ms : std::min(out[i].ms, static_cast<double>(ms));
      }
    }
  } catch (...) {
    for (auto& e : events) cudaEventDestroy(e);
    throw;
  }
  for (auto& e : events) cudaEventDestroy(e);
  static const char* kinds[] = {"conv",     "groupnorm", "unary", "add",
                                "upsample", "attention", "slice"};
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    const Nhwc in = shapes_[step.in[0]];
    std::string label = kinds[static_cast<int>(step.kind)];
    if (step.kind == StepKind::Conv) {
      const ConvStep& c = *convs_[step.conv];
      label += " " + c.signature + " algo " + std::to_string(c.algorithm.algorithm) + " math " +
               std::to_string(c.algorithm.math) + (c.explicit_pad ? " +pad" : "") +
               (c.fused ? " fused" : "");
    } else {
      label += " n" + std::to_string(in.n) + " " + std::to_string(in.h) + "x" +
               std::to_string(in.w) + "x" + std::to_string(in.cp);
      if (step.kind == StepKind::GroupNorm && step.silu) label += " +silu";
    }
    out[i].label = std::move(label);
  }
  return out;
}

void Plan::run_step(const Step& step) {
  const DType type = weights_.type;
  const cudaStream_t stream = context_.stream();
  {
    const Op& op = graph_.ops[step.op];
    const Nhwc in = shapes_[step.in[0]];
    switch (step.kind) {
      case StepKind::Conv:
        run_conv(step);
        break;
      case StepKind::GroupNorm:
        launch_group_norm(type, data(step.in[0]),
                          step.bias_from >= 0 ? weights_.bias[step.bias_from].as<float>() : nullptr,
                          data(step.out), in, graph_.values[op.inputs[0]].channels, op.groups,
                          op.eps, weights_.gamma[step.op].as<float>(),
                          weights_.beta[step.op].as<float>(), step.silu, norm_scratch_.as<float>(),
                          stream);
        break;
      case StepKind::Unary:
        launch_unary(type, step.unary, data(step.in[0]), data(step.out), in.elements(), stream);
        break;
      case StepKind::Add:
        launch_add(type, data(step.in[0]), data(step.in[1]), data(step.out), in.elements(), stream);
        break;
      case StepKind::Upsample:
        launch_upsample2x(type, data(step.in[0]), data(step.out), in, stream);
        break;
      case StepKind::Attention:
        run_attention(step);
        break;
      case StepKind::Slice:
        launch_slice_channels(type, data(step.in[0]), in.cp, op.begin,
                              graph_.values[op.output].channels, data(step.out),
                              shapes_[step.out].cp, in.pixels(), stream);
        break;
    }
  }
}

void Plan::run_conv(const Step& step) {
  const Op& op = graph_.ops[step.op];
  const ConvStep& c = *convs_[step.conv];
  const DType type = weights_.type;
  const std::size_t elem = dtype_size(type);
  const void* x = data(step.in[0]);
  if (c.explicit_pad) {
    launch_pad(type, x, pad_scratch_.get(), shapes_[step.in[0]], op.pad.top, op.pad.left,
               op.pad.bottom, op.pad.right, context_.stream());
    x = pad_scratch_.get();
  }
  void* y = data(step.out);
  const float one = 1.0f, zero = 0.0f;
  const std::size_t x_step = c.x_shape.elements() / c.x_shape.n * c.batch_per_call * elem;
  const std::size_t y_step = c.y_shape.elements() / c.y_shape.n * c.batch_per_call * elem;
  // Fused: y = act(conv(x) + alpha2 * residual + bias) in one cuDNN call (residual unused when
  // alpha2 is 0, so y stands in for it).
  const float alpha2 = step.residual >= 0 ? 1.0f : 0.0f;
  const char* residual = step.residual >= 0 ? static_cast<const char*>(data(step.residual))
                                            : static_cast<const char*>(y);
  const auto algorithm = static_cast<cudnnConvolutionFwdAlgo_t>(c.algorithm.algorithm);
  for (int first = 0; first < c.x_shape.n; first += c.batch_per_call) {
    const std::size_t call = static_cast<std::size_t>(first / c.batch_per_call);
    const char* x_call = static_cast<const char*>(x) + call * x_step;
    char* y_call = static_cast<char*>(y) + call * y_step;
    const void* filter = weights_.filter[step.op].get();
    if (c.fused)
      DW_CUDNN_CHECK(cudnnConvolutionBiasActivationForward(
          context_.cudnn(), &one, c.x, x_call, c.filter, filter, c.conv, algorithm,
          workspace_.get(), c.algorithm.workspace, &alpha2, c.y, residual + call * y_step, c.bias,
          c.bias_data.get(), c.activation, c.y, y_call));
    else
      DW_CUDNN_CHECK(cudnnConvolutionForward(context_.cudnn(), &one, c.x, x_call, c.filter, filter,
                                             c.conv, algorithm, workspace_.get(),
                                             c.algorithm.workspace, &zero, c.y, y_call));
  }
  if (c.fused) return;
  launch_conv_epilogue(type, y, step.bias_in_next ? nullptr : weights_.bias[step.op].as<float>(),
                       step.residual >= 0 ? data(step.residual) : nullptr, c.y_shape.elements(),
                       c.y_shape.cp, step.relu, context_.stream());
}

// q, k, v, out: [N, T, C] (NHWC is token-major). Per item, row-major:
// S = Q K^T / sqrt(C) (fp32), P = softmax_rows(S), O = P V. cuBLAS is column-major, so each
// row-major product is issued as its transpose.
void Plan::run_attention(const Step& step) {
  const DType type = weights_.type;
  const Nhwc s = shapes_[step.in[0]];
  const int tokens = s.h * s.w, channels = s.cp;
  const long long item = static_cast<long long>(tokens) * channels;
  const long long square = static_cast<long long>(tokens) * tokens;
  const std::size_t elem = dtype_size(type);
  const float scale = 1.0f / std::sqrt(static_cast<float>(graph_.values[step.in[0]].channels));
  const float one = 1.0f, zero = 0.0f;
  const char* q = static_cast<const char*>(data(step.in[0]));
  const char* k = static_cast<const char*>(data(step.in[1]));
  const char* v = static_cast<const char*>(data(step.in[2]));
  char* o = static_cast<char*>(data(step.out));
  for (int first = 0; first < s.n; first += step.attention_chunk) {
    const int batch = std::min(step.attention_chunk, s.n - first);
    const std::size_t offset = static_cast<std::size_t>(first) * item * elem;
    // S^T (col-major [T_k, T_q]) = K (col-major [C, T_k])^T x Q (col-major [C, T_q])
    DW_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        context_.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, tokens, tokens, channels, &scale, k + offset,
        blas_type(type), channels, item, q + offset, blas_type(type), channels, item, &zero,
        scores_.get(), CUDA_R_32F, tokens, square, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    launch_softmax_rows(scores_.as<float>(), type, probabilities_.get(),
                        static_cast<std::size_t>(batch) * tokens, tokens, context_.stream());
    // O^T (col-major [C, T_q]) = V (col-major [C, T_k]) x P^T (col-major [T_k, T_q])
    DW_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        context_.cublas(), CUBLAS_OP_N, CUBLAS_OP_N, channels, tokens, tokens, &one, v + offset,
        blas_type(type), channels, item, probabilities_.get(), blas_type(type), tokens, square,
        &zero, o + offset, blas_type(type), channels, item, batch, CUBLAS_COMPUTE_32F,
        CUBLAS_GEMM_DEFAULT));
  }
}

}  // namespace dw::vae::cuda
