// The softmax of the mid-block attention (kernel in attention.cu). The attention's GEMMs are
// cuBLAS calls in the plan (src/vae/cuda/plan_run.cpp).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "kernels/vae/types.h"

namespace dw::vae::cuda::ops {

// Row-wise softmax of fp32 scores [rows, cols] into probabilities of `type` (fp32 arithmetic).
void softmax_rows(const float* scores, DType type, void* probabilities, std::size_t rows, int cols,
                  cudaStream_t stream);

}  // namespace dw::vae::cuda::ops
