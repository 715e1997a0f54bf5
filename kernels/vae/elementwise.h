// Elementwise ops on NHWC activations (kernels in elementwise.cu): activations, residual adds and
// the convolution epilogue. Counts are elements, a multiple of 8 (every activation's is). Each
// op checks its arguments, launches on `stream` and checks the launch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/vae/types.h"

namespace dw::vae::cuda {

enum class Unary : std::uint8_t { SiLU, ReLU, TanhClamp };

namespace ops {

void unary(DType type, Unary op, const void* in, void* out, std::size_t count, cudaStream_t stream);
void add(DType type, const void* a, const void* b, void* out, std::size_t count,
         cudaStream_t stream);
// After a convolution, in place: y = relu?(y + bias[c] + residual?). bias: fp32 [cp] or null;
// residual: same shape as y or null.
void conv_epilogue(DType type, void* y, const float* bias, const void* residual, std::size_t count,
                   int cp, bool relu, cudaStream_t stream);

}  // namespace ops
}  // namespace dw::vae::cuda
