// Device-side helpers shared by the kernel families: element conversions, 8-wide vectors, block
// reductions, and the byte rounding every frame path shares with the CPU. Included by .cu files
// only.
#pragma once

#include <cuda_fp16.h>

#include <cstddef>

namespace dw::kernels {

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

// [0, 1] -> 0..255 exactly as the CPU's unit_to_byte (src/vae/slerp.cpp): NaN and below 0 give 0.
__device__ __forceinline__ unsigned char unit_to_byte(float v) {
  if (!(v > 0.0f)) return 0;
  if (v >= 1.0f) return 255;
  return static_cast<unsigned char>(v * 255.0f + 0.5f);
}

// Clamped to [0, 1] with NaN -> 0, as the CPU backend clamps its output images.
__device__ __forceinline__ float clamp_unit(float v) {
  return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
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
// The order of additions is fixed, so the result is the same bits on every run.
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

}  // namespace dw::kernels
