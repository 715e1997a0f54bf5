// Launching grid-stride kernels: the one place that sizes a grid and writes the loop. A body is
// any __device__ callable taking the flat index (an extended lambda, nvcc --extended-lambda):
//   launch_grid_stride(count, stream, [=] __device__(std::size_t i) { out[i] = f(in[i]); });
// The grid is capped (grid_for), so one thread may run several indices; bodies must not assume
// one index per thread. Included by .cu files only.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "core/cuda_error.h"

namespace dw::kernels {

inline constexpr int kDefaultThreads = 256;

// Blocks for a grid-stride loop over `work` items with `threads` per block: enough to fill any
// GPU many times over, never more than the work needs, never zero.
inline unsigned grid_for(std::size_t work, int threads) {
  constexpr std::size_t kMaxBlocks = std::size_t(65536) * 16;
  const std::size_t blocks = (work + threads - 1) / threads;
  return static_cast<unsigned>(blocks < kMaxBlocks ? (blocks > 0 ? blocks : 1) : kMaxBlocks);
}

template <typename Body>
__global__ void grid_stride_kernel(std::size_t count, Body body) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < count; i += stride)
    body(i);
}

// Runs body(i) for every i in [0, count) on `stream`; checks the launch. Nothing for count 0.
template <typename Body>
void launch_grid_stride(std::size_t count, cudaStream_t stream, const Body& body,
                        int threads = kDefaultThreads) {
  if (count == 0) return;
  grid_stride_kernel<<<grid_for(count, threads), threads, 0, stream>>>(count, body);
  DW_CUDA_CHECK_LAUNCH();
}

// The same over `rows` independent rows of `count` indices each: body(row, i) with a 32-bit index
// within the row (grid.y is the row, so per-row arithmetic needs no 64-bit division). At most
// 65535 rows.
template <typename Body>
__global__ void grid_stride_rows_kernel(unsigned count, Body body) {
  const unsigned stride = gridDim.x * blockDim.x;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
    body(blockIdx.y, i);
}

template <typename Body>
void launch_grid_stride_rows(unsigned rows, unsigned count, cudaStream_t stream, const Body& body,
                             int threads = kDefaultThreads) {
  if (rows == 0 || count == 0) return;
  DW_CHECK(rows <= 65535, "launch_grid_stride_rows: more than 65535 rows");
  grid_stride_rows_kernel<<<dim3(grid_for(count, threads), rows), threads, 0, stream>>>(count,
                                                                                        body);
  DW_CUDA_CHECK_LAUNCH();
}

}  // namespace dw::kernels
