// The softmax of the mid-block attention: one block per row of fp32 scores, fp32 arithmetic,
// probabilities written in the activation type for the second GEMM. kernel -> launcher -> op.
#include "kernels/common/device_math.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/vae/attention.h"
#include "kernels/vae/dispatch.cuh"

namespace dw::vae::cuda {
namespace {

using kernels::block_max;
using kernels::block_sum;
using kernels::from_float;

constexpr int kThreads = 512;

// grid: one block per row (a row is too short to split across blocks and too long for a warp).
template <typename T>
__global__ void softmax_rows_kernel(const float* scores, T* probabilities, int cols) {
  const float* row = scores + std::size_t(blockIdx.x) * cols;
  T* out = probabilities + std::size_t(blockIdx.x) * cols;
  float peak = -INFINITY;
  for (int j = threadIdx.x; j < cols; j += blockDim.x) peak = fmaxf(peak, row[j]);
  peak = block_max(peak);
  float total = 0.0f;
  for (int j = threadIdx.x; j < cols; j += blockDim.x) total += __expf(row[j] - peak);
  total = block_sum(total);
  const float inverse = 1.0f / total;
  for (int j = threadIdx.x; j < cols; j += blockDim.x)
    out[j] = from_float<T>(__expf(row[j] - peak) * inverse);
}

template <typename T>
void softmax_rows_launch(const float* scores, T* probabilities, std::size_t rows, int cols,
                         cudaStream_t stream) {
  softmax_rows_kernel<T>
      <<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(scores, probabilities, cols);
  DW_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace ops {

void softmax_rows(const float* scores, DType type, void* probabilities, std::size_t rows, int cols,
                  cudaStream_t stream) {
  DW_CHECK(cols > 0 && rows < (std::size_t(1) << 31), "ops::softmax_rows: bad shape");
  if (rows == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    softmax_rows_launch<T>(scores, static_cast<T*>(probabilities), rows, cols, stream);
  });
}

}  // namespace ops
}  // namespace dw::vae::cuda
