// The softmax of the mid-block attention: one block per row of fp32 scores, fp32 arithmetic,
// probabilities written in the activation type for the second GEMM. The GEMMs are cuBLAS calls
// in the plan (cuda_plan.cpp).
#include "device_common.cuh"

namespace dw::vae::cuda {
namespace {

constexpr int kThreads = 512;

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

}  // namespace

void launch_softmax_rows(const float* scores, DType type, void* probabilities, std::size_t rows,
                         int cols, cudaStream_t stream) {
  DW_CHECK(cols > 0 && rows < (std::size_t(1) << 31), "launch_softmax_rows: bad shape");
  if (rows == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    softmax_rows_kernel<T><<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(
        scores, static_cast<T*>(probabilities), cols);
  });
  DW_CUDA_CHECK_LAUNCH();
}

}  // namespace dw::vae::cuda
