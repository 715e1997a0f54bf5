// The plan's step records, shared by its source files (cuda_plan.cpp, plan_steps.cpp,
// plan_convolutions.cpp, plan_run.cpp) and by nothing else.
#pragma once

#include <cudnn.h>

#include <string>

#include "kernels/vae/elementwise.h"
#include "vae/cuda/cuda_plan.h"

// The legacy convolution API (cudnnConvolutionForward and friends) is deprecated in cuDNN 9 but
// fully supported; it is what picks an algorithm once per shape here.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace dw::vae::cuda {

// One convolution's cuDNN state, made once at plan time.
struct Plan::ConvStep {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t filter = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ConvAlgorithm algorithm;
  int kernel = 1, stride = 1, pad_h = 0, pad_w = 0;  // what cuDNN runs
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

  ConvStep() = default;
  ConvStep(const ConvStep&) = delete;
  ConvStep& operator=(const ConvStep&) = delete;
  ~ConvStep() {
    if (bias) cudnnDestroyTensorDescriptor(bias);
    if (activation) cudnnDestroyActivationDescriptor(activation);
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (filter) cudnnDestroyFilterDescriptor(filter);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

// UpsampleConv: a x2 upsample fused into the 3x3 convolution that alone reads it (op is the
// convolution, in[0] the upsample's input; PlanOptions::fuse_upsample).
enum class StepKind { Conv, GroupNorm, Unary, Add, Upsample, Attention, Slice, UpsampleConv };

// One launch group of the plan: a graph op plus the ops fused into it.
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

inline cudnnDataType_t cudnn_type(DType type) {
  return type == DType::F16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
}
inline cudaDataType_t blas_type(DType type) {
  return type == DType::F16 ? CUDA_R_16F : CUDA_R_32F;
}

}  // namespace dw::vae::cuda
