// Device-side helpers shared by the backend's kernels: element conversions, 8-wide vectors and
// block reductions. Included by .cu files only.
#pragma once

#include <cuda_fp16.h>

#include <cstddef>

#include "vae/cuda/cuda_check.h"
#include "vae/cuda/kernels.h"

namespace dw::vae::cuda {

__device__ __forceinline__ float to_float(float v) {
  return v;
}
__device__ __forceinline__ float to_float(__half v) {
  return __half2float(v);
}
template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float v) {
  return __float2half_rn(v);
}

// Eight consecutive elements: one 16-byte (fp16) or two 16-byte (fp32) memory transactions.
template <typename T>
struct alignas(sizeof(T) * 8) Vec8 {
  T v[8];
};

template <typename T>
__device__ __forceinline__ void load8(const T* p, float (&out)[8]) {
  const Vec8<T> x = *reinterpret_cast<const Vec8<T>*>(p);
#pragma unroll
  for (int i = 0; i < 8; ++i) out[i] = to_float(x.v[i]);
}
template <typename T>
__device__ __forceinline__ void store8(T* p, const float (&in)[8]) {
  Vec8<T> x;
#pragma unroll
  for (int i = 0; i < 8; ++i) x.v[i] = from_float<T>(in[i]);
  *reinterpret_cast<Vec8<T>*>(p) = x;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
template <typename Acc>
__device__ Acc block_sum(Acc value) {
  __shared__ Acc partial[32];
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();  // `partial` may still be read by a previous call
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  const int warps = (blockDim.x + 31) / 32;
  Acc total = lane < warps ? partial[lane] : Acc(0);
  for (int offset = 16; offset > 0; offset /= 2)
    total += __shfl_xor_sync(0xffffffffu, total, offset);
  return total;
}

__device__ __forceinline__ float block_max(float value) {
  __shared__ float partial[32];
  for (int offset = 16; offset > 0; offset /= 2)
    value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  const int warps = (blockDim.x + 31) / 32;
  float best = lane < warps ? partial[lane] : -INFINITY;
  for (int offset = 16; offset > 0; offset /= 2)
    best = fmaxf(best, __shfl_xor_sync(0xffffffffu, best, offset));
  return best;
}

// Blocks for a grid-stride loop over `work` items with `threads` per block.
inline unsigned grid_for(std::size_t work, int threads) {
  const std::size_t blocks = (work + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65536 * 16 ? (blocks > 0 ? blocks : 1) : 65536 * 16);
}

template <typename T>
struct TypeTag {
  using type = T;
};
// Calls f(TypeTag<T>{}) with T = __half or float (the kernels are C++17: CMake 3.25 knows no
// CUDA20 dialect for nvcc).
template <typename F>
void dispatch(DType type, F&& f) {
  if (type == DType::F16)
    f(TypeTag<__half>{});
  else
    f(TypeTag<float>{});
}

}  // namespace dw::vae::cuda
