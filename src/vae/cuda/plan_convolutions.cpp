// The plan's convolutions: cuDNN descriptors, the algorithm for each shape (cached by signature
// across plans), a trial launch of a heuristic's pick, and the fused bias/residual/ReLU variant
// where cuDNN runs it. All at plan time; nothing here runs per frame.
#include <cuda_fp16.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>

#include "vae/cuda/cuda_check.h"
#include "vae/cuda/plan_internal.h"

namespace dw::vae::cuda {

void Plan::prepare_convolutions(AlgorithmCache& algorithms, const PlanOptions& options) {
  std::size_t pad_bytes = 0, workspace = 0;
  for (Step& step : steps_) {
    if (step.kind != StepKind::Conv && step.kind != StepKind::UpsampleConv) continue;
    const Op& op = graph_.ops[step.op];
    std::unique_ptr<ConvStep> c = describe_convolution(step);
    if (c->explicit_pad)
      pad_bytes = std::max(pad_bytes, c->x_shape.elements() * dtype_size(weights_.type));
    choose_algorithm(*c, step, algorithms, options);
    // A fused upsample's bias is added by the interleaving pass after it.
    const bool has_epilogue =
        step.kind == StepKind::Conv &&
        ((op.bias >= 0 && !step.bias_in_next) || step.residual >= 0 || step.relu);
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

const void* Plan::filter_of(const Step& step) const {
  return (step.kind == StepKind::UpsampleConv ? weights_.phase_filter : weights_.filter)[step.op]
      .get();
}

void* Plan::conv_output(const Step& step) const {
  return step.kind == StepKind::UpsampleConv ? phase_scratch_.get() : data(step.out);
}

namespace {

// What cuDNN runs for a convolution step: the graph's convolution (after an explicit zero-pad
// copy where the padding is asymmetric), or for a fused upsample the 2x2 phase convolution of the
// low-resolution input, pad 1, into [n, h + 1, w + 1, 4 * cp_out] (kernels/vae/layout.h).
void set_geometry(Plan::ConvStep& c, const Op& op, Nhwc in, Nhwc out, bool upsample_fused) {
  c.x_shape = in;
  c.y_shape = out;
  c.kernel = op.kernel;
  c.stride = op.stride;
  c.pad_h = op.pad.top;
  c.pad_w = op.pad.left;
  if (upsample_fused) {
    c.y_shape = Nhwc{in.n, in.h + 1, in.w + 1, 4 * out.cp};
    c.kernel = 2;
    c.pad_h = c.pad_w = 1;
    return;
  }
  c.explicit_pad = op.pad.top != op.pad.bottom || op.pad.left != op.pad.right;
  if (c.explicit_pad) {
    c.x_shape.h += op.pad.top + op.pad.bottom;
    c.x_shape.w += op.pad.left + op.pad.right;
    c.pad_h = c.pad_w = 0;
  }
}

}  // namespace

// The descriptors of one convolution, its explicit padding (cuDNN pads symmetrically only) and
// the batch split that keeps every tensor under cuDNN's INT_MAX elements.
std::unique_ptr<Plan::ConvStep> Plan::describe_convolution(const Step& step) {
  const Op& op = graph_.ops[step.op];
  const DType type = weights_.type;
  auto c = std::make_unique<ConvStep>();
  const Nhwc in = shapes_[step.in[0]];
  set_geometry(*c, op, in, shapes_[step.out], step.kind == StepKind::UpsampleConv);
  // Largest batch divisor that keeps both tensors under INT_MAX elements.
  const std::size_t per_item =
      std::max(c->x_shape.elements(), c->y_shape.elements()) / static_cast<std::size_t>(in.n);
  DW_CHECK(per_item <= static_cast<std::size_t>(INT_MAX),
           "CUDA backend: one image of " + op.name + " is too large for cuDNN");
  for (int d = in.n; d >= 1; --d)
    if (in.n % d == 0 && per_item * d <= static_cast<std::size_t>(INT_MAX)) {
      c->batch_per_call = d;
      break;
    }
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
                                            c->y_shape.cp, c->x_shape.cp, c->kernel, c->kernel));
  // fp32 accumulation in both precisions.
  DW_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(c->conv, c->pad_h, c->pad_w, c->stride, c->stride,
                                                 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  int on = 0, oc = 0, oh = 0, ow = 0;
  DW_CUDNN_CHECK(
      cudnnGetConvolution2dForwardOutputDim(c->conv, c->x, c->filter, &on, &oc, &oh, &ow));
  DW_CHECK(on == d && oc == c->y_shape.cp && oh == c->y_shape.h && ow == c->y_shape.w,
           "CUDA backend: cuDNN's output shape for " + op.name + " differs from the graph's");
  c->signature = std::string(dtype_name(type)) + " n" + std::to_string(d) + " " +
                 std::to_string(c->x_shape.h) + "x" + std::to_string(c->x_shape.w) + "x" +
                 std::to_string(c->x_shape.cp) + " -> " + std::to_string(c->y_shape.cp) + " k" +
                 std::to_string(c->kernel) + " s" + std::to_string(c->stride) + " p" +
                 std::to_string(c->pad_h) + "," + std::to_string(c->pad_w);
  // fp16 runs on tensor cores; the fp32 fallback stays true fp32 (no TF32). The math type is set
  // before the heuristics or the search run: they only offer algorithms of the descriptor's math
  // type, and the default math type gave fp16 convolutions without tensor cores on an H100
  // (14-27 TFLOPS; docs/benchmarks.md).
  DW_CUDNN_CHECK(cudnnSetConvolutionMathType(
      c->conv, type == DType::F16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  return c;
}

// Sets `algorithm` with `math` on the descriptor when this precision allows that math and its
// workspace fits the limit.
bool Plan::use_algorithm(ConvStep& c, int algorithm, int math_type, std::size_t workspace_limit) {
  auto math = static_cast<cudnnMathType_t>(math_type);
  if (weights_.type == DType::F32) {
    if (math == CUDNN_TENSOR_OP_MATH || math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return false;
    math = CUDNN_FMA_MATH;
  } else if (math == CUDNN_DEFAULT_MATH) {
    math = CUDNN_TENSOR_OP_MATH;
  }
  if (cudnnSetConvolutionMathType(c.conv, math) != CUDNN_STATUS_SUCCESS) return false;
  const auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(algorithm);
  std::size_t bytes = 0;
  if (cudnnGetConvolutionForwardWorkspaceSize(context_.cudnn(), c.x, c.filter, c.conv, c.y, algo,
                                              &bytes) != CUDNN_STATUS_SUCCESS ||
      bytes > workspace_limit)
    return false;
  c.algorithm = ConvAlgorithm{algorithm, static_cast<int>(math), bytes};
  return true;
}

// The algorithm this signature used before, else cuDNN's heuristics (or, with exhaustive_search,
// a timed run of every algorithm) in order of preference.
void Plan::choose_algorithm(ConvStep& c, const Step& step, AlgorithmCache& algorithms,
                            const PlanOptions& options) {
  if (const auto found = algorithms.find(c.signature); found != algorithms.end())
    if (use_algorithm(c, found->second.algorithm, found->second.math, options.workspace_limit))
      return;
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int returned = 0;
  if (options.exhaustive_search) {
    // Runs every algorithm once on this plan's own buffers (contents are overwritten later).
    DeviceBuffer trial_workspace(options.workspace_limit);
    DeviceBuffer trial_x(c.x_shape.elements() / c.x_shape.n * c.batch_per_call *
                         dtype_size(weights_.type));
    DW_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
        context_.cudnn(), c.x, trial_x.get(), c.filter, filter_of(step), c.conv, c.y,
        conv_output(step), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf, trial_workspace.get(),
        trial_workspace.bytes()));
  } else {
    DW_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(context_.cudnn(), c.x, c.filter, c.conv,
                                                          c.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                          &returned, perf));
  }
  // A heuristic's pick is run once here (on scratch input, into this plan's own output buffer)
  // so that an algorithm cuDNN cannot launch for this shape is passed over now, with a log line,
  // rather than failing the first frame.
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS ||
        !use_algorithm(c, perf[i].algo, perf[i].mathType, options.workspace_limit))
      continue;
    if (options.exhaustive_search || trial_run(c, step)) {
      algorithms[c.signature] = c.algorithm;
      return;
    }
  }
  throw Error("cuDNN offers no usable forward algorithm for " + graph_.ops[step.op].name + " (" +
              c.signature + ")");
}

namespace {

// A fused convolution's bias as cuDNN reads it: [cp] in `type` (fp16 or fp32).
DeviceBuffer upload_bias(const std::vector<float>& bias, cudnnDataType_t type) {
  if (type != CUDNN_DATA_HALF) {
    DeviceBuffer buffer(bias.size() * sizeof(float));
    DW_CUDA_CHECK(cudaMemcpy(buffer.get(), bias.data(), buffer.bytes(), cudaMemcpyHostToDevice));
    return buffer;
  }
  std::vector<__half> halves(bias.size());
  for (std::size_t i = 0; i < bias.size(); ++i) halves[i] = __float2half_rn(bias[i]);
  DeviceBuffer buffer(halves.size() * sizeof(__half));
  DW_CUDA_CHECK(cudaMemcpy(buffer.get(), halves.data(), buffer.bytes(), cudaMemcpyHostToDevice));
  return buffer;
}

}  // namespace

// Tries y = act(conv(x) + alpha2 * residual + bias) as one cuDNN call on scratch input; cuDNN
// decides per shape and algorithm whether it runs it. The bias goes in the data's own type first
// (cuDNN's pseudo-half configuration), then in fp32.
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
  trial_input_.reserve(c.x_shape.elements() / c.x_shape.n * c.batch_per_call *
                       dtype_size(weights_.type));
  trial_workspace_.reserve(c.algorithm.workspace);
  std::vector<cudnnDataType_t> bias_types = {cudnn_type(weights_.type)};
  if (weights_.type == DType::F16) bias_types.push_back(CUDNN_DATA_FLOAT);
  cudnnStatus_t status = CUDNN_STATUS_NOT_SUPPORTED;
  for (const cudnnDataType_t bias_type : bias_types) {
    DW_CUDNN_CHECK(cudnnSetTensor4dDescriptor(c.bias, CUDNN_TENSOR_NHWC, bias_type, 1, cp, 1, 1));
    c.bias_data = upload_bias(bias, bias_type);
    const float one = 1.0f, alpha2 = step.residual >= 0 ? 1.0f : 0.0f;
    void* y = conv_output(step);
    const void* z = step.residual >= 0 ? data(step.residual) : y;
    status = cudnnConvolutionBiasActivationForward(
        context_.cudnn(), &one, c.x, trial_input_.get(), c.filter, filter_of(step), c.conv,
        static_cast<cudnnConvolutionFwdAlgo_t>(c.algorithm.algorithm), trial_workspace_.get(),
        c.algorithm.workspace, &alpha2, c.y, z, c.bias, c.bias_data.get(), c.activation, c.y, y);
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
      context_.cudnn(), &one, c.x, trial_input_.get(), c.filter, filter_of(step), c.conv,
      static_cast<cudnnConvolutionFwdAlgo_t>(c.algorithm.algorithm), trial_workspace_.get(),
      c.algorithm.workspace, &zero, c.y, conv_output(step));
  if (status == CUDNN_STATUS_SUCCESS) return true;
  spdlog::warn("vae cuda: cuDNN algorithm {} cannot run {} ({}): trying the next one",
               c.algorithm.algorithm, c.signature, cudnnGetErrorString(status));
  return false;
}

}  // namespace dw::vae::cuda
