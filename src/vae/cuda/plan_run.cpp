// One step of a plan as launches on the context's stream: cuDNN convolutions (with our epilogue
// where cuDNN could not fuse it), the attention's cuBLAS GEMMs around our softmax, and our
// elementwise, GroupNorm and layout kernels. Runs per frame: no allocation, no host sync.
#include <cmath>

#include "kernels/vae/attention.h"
#include "kernels/vae/elementwise.h"
#include "kernels/vae/group_norm.h"
#include "kernels/vae/layout.h"
#include "vae/cuda/cuda_check.h"
#include "vae/cuda/plan_internal.h"

namespace dw::vae::cuda {

void Plan::run_step(const Step& step) {
  const DType type = weights_.type;
  const cudaStream_t stream = context_.stream();
  const Op& op = graph_.ops[step.op];
  const Nhwc in = shapes_[step.in[0]];
  switch (step.kind) {
    case StepKind::Conv:
      run_conv(step);
      break;
    case StepKind::GroupNorm:
      ops::group_norm(type, data(step.in[0]),
                      step.bias_from >= 0 ? weights_.bias[step.bias_from].as<float>() : nullptr,
                      data(step.out), in, graph_.values[op.inputs[0]].channels, op.groups, op.eps,
                      weights_.gamma[step.op].as<float>(), weights_.beta[step.op].as<float>(),
                      step.silu, norm_scratch_.as<float>(), stream);
      break;
    case StepKind::Unary:
      ops::unary(type, step.unary, data(step.in[0]), data(step.out), in.elements(), stream);
      break;
    case StepKind::Add:
      ops::add(type, data(step.in[0]), data(step.in[1]), data(step.out), in.elements(), stream);
      break;
    case StepKind::Upsample:
      ops::upsample2x(type, data(step.in[0]), data(step.out), in, stream);
      break;
    case StepKind::Attention:
      run_attention(step);
      break;
    case StepKind::UpsampleConv:
      run_conv(step);
      ops::phases_to_space(type, phase_scratch_.get(), Nhwc{in.n, in.h, in.w, shapes_[step.out].cp},
                           op.bias >= 0 ? weights_.bias[step.op].as<float>() : nullptr,
                           data(step.out), stream);
      break;
    case StepKind::Slice:
      ops::slice_channels(type, data(step.in[0]), in.cp, op.begin,
                          graph_.values[op.output].channels, data(step.out), shapes_[step.out].cp,
                          in.pixels(), stream);
      break;
  }
}

void Plan::run_conv(const Step& step) {
  const Op& op = graph_.ops[step.op];
  const ConvStep& c = *convs_[step.conv];
  const DType type = weights_.type;
  const std::size_t elem = dtype_size(type);
  const void* x = data(step.in[0]);
  if (c.explicit_pad) {
    ops::pad(type, x, pad_scratch_.get(), shapes_[step.in[0]], op.pad.top, op.pad.left,
             op.pad.bottom, op.pad.right, context_.stream());
    x = pad_scratch_.get();
  }
  void* y = conv_output(step);
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
    const void* filter = filter_of(step);
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
  if (c.fused || step.kind == StepKind::UpsampleConv) return;  // its bias comes after
  ops::conv_epilogue(type, y, step.bias_in_next ? nullptr : weights_.bias[step.op].as<float>(),
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
    ops::softmax_rows(scores_.as<float>(), type, probabilities_.get(),
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
