// GroupNorm (+ SiLU) over NHWC activations (kernels in group_norm.cu), statistics in fp32 partial
// sums combined in double. The op checks its arguments, launches on `stream` and checks each
// launch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "kernels/vae/types.h"

namespace dw::vae::cuda::ops {

// Scratch for group_norm, in floats.
std::size_t group_norm_scratch_floats(Nhwc shape, int channels, int groups);
// GroupNorm over the first `channels` of each pixel, optionally followed by SiLU; padding
// channels written as 0. In place allowed. gamma, beta: fp32 [channels]. in_bias (fp32
// [channels] or null) is added to the input first: the bias of a convolution whose only reader is
// this GroupNorm, saving that convolution's epilogue pass. At most 4096 channels.
void group_norm(DType type, const void* in, const float* in_bias, void* out, Nhwc shape,
                int channels, int groups, float eps, const float* gamma, const float* beta,
                bool silu, float* scratch, cudaStream_t stream);

}  // namespace dw::vae::cuda::ops
