// Batched slerp of two latents on the GPU (kernels in slerp.cu): the math of slerp_host
// (src/vae/slerp.cpp), all t in one launch after one statistics pass.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

namespace dw::vae::cuda::ops {

std::size_t slerp_scratch_doubles(int channels, int count_t);
// a, b: fp32 [channels, plane]; t: fp32 [count_t] (device); out: fp32 [count_t, channels, plane].
void slerp(const float* a, const float* b, const float* t, int count_t, int channels,
           std::size_t plane, bool mean_center, float lerp_threshold, double* scratch, float* out,
           cudaStream_t stream);

}  // namespace dw::vae::cuda::ops
