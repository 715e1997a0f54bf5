// Batched slerp on the GPU, the same math as slerp_host (src/vae/slerp.cpp): one single-block
// pass computes the per-channel means, the norms and the angle in double and the two weights of
// every t; one grid-stride launch then writes all T latents. kernel -> launcher -> op.
#include "kernels/common/device_math.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/vae/slerp.h"

namespace dw::vae::cuda {
namespace {

using kernels::block_sum;
using kernels::launch_grid_stride;

constexpr int kStatsThreads = 512;

// Scratch layout (doubles): mean_a[C], mean_b[C], wa[T], wb[T].
__global__ void slerp_stats_kernel(const float* a, const float* b, const float* t, int count_t,
                                   int channels, std::size_t plane, bool mean_center,
                                   float lerp_threshold, double* scratch) {
  double* mean_a = scratch;
  double* mean_b = scratch + channels;
  double* wa = scratch + 2 * channels;
  double* wb = wa + count_t;
  for (int c = 0; c < channels; ++c) {
    double sa = 0.0, sb = 0.0;
    if (mean_center) {
      for (std::size_t i = threadIdx.x; i < plane; i += blockDim.x) {
        sa += a[c * plane + i];
        sb += b[c * plane + i];
      }
      sa = block_sum(sa);
      sb = block_sum(sb);
    }
    if (threadIdx.x == 0) {
      mean_a[c] = mean_center ? sa / double(plane) : 0.0;
      mean_b[c] = mean_center ? sb / double(plane) : 0.0;
    }
  }
  __syncthreads();
  double dot = 0.0, norm_a = 0.0, norm_b = 0.0;
  for (std::size_t i = threadIdx.x; i < plane * channels; i += blockDim.x) {
    const int c = static_cast<int>(i / plane);
    const double x = a[i] - mean_a[c];
    const double y = b[i] - mean_b[c];
    dot += x * y;
    norm_a += x * x;
    norm_b += y * y;
  }
  dot = block_sum(dot);
  norm_a = sqrt(block_sum(norm_a));
  norm_b = sqrt(block_sum(norm_b));
  if (threadIdx.x != 0) return;
  const bool degenerate = norm_a < 1e-12 || norm_b < 1e-12;
  const double cosine = degenerate ? 1.0 : fmin(fmax(dot / (norm_a * norm_b), -1.0), 1.0);
  const double omega = acos(cosine);
  const double sin_omega = sin(omega);
  const bool linear = degenerate || sin_omega < lerp_threshold;
  for (int k = 0; k < count_t; ++k) {
    const double tk = t[k];
    if (linear) {
      wa[k] = 1.0 - tk;
      wb[k] = tk;
    } else {
      const double norm = (1.0 - tk) * norm_a + tk * norm_b;
      wa[k] = norm * sin((1.0 - tk) * omega) / sin_omega / norm_a;
      wb[k] = norm * sin(tk * omega) / sin_omega / norm_b;
    }
  }
}

void slerp_apply_launch(const float* a, const float* b, const float* t, int count_t, int channels,
                        std::size_t plane, const double* scratch, float* out, cudaStream_t stream) {
  const double* mean_a = scratch;
  const double* mean_b = scratch + channels;
  const double* wa = scratch + 2 * channels;
  const double* wb = wa + count_t;
  const std::size_t item = plane * channels;
  launch_grid_stride(item * count_t, stream, [=] __device__(std::size_t i) {
    const int k = static_cast<int>(i / item);
    const std::size_t j = i % item;
    const int c = static_cast<int>(j / plane);
    const double tk = t[k];
    const double mean = (1.0 - tk) * mean_a[c] + tk * mean_b[c];
    out[i] = static_cast<float>(wa[k] * (a[j] - mean_a[c]) + wb[k] * (b[j] - mean_b[c]) + mean);
  });
}

}  // namespace

namespace ops {

std::size_t slerp_scratch_doubles(int channels, int count_t) {
  return 2 * std::size_t(channels) + 2 * std::size_t(count_t);
}

void slerp(const float* a, const float* b, const float* t, int count_t, int channels,
           std::size_t plane, bool mean_center, float lerp_threshold, double* scratch, float* out,
           cudaStream_t stream) {
  DW_CHECK(channels > 0 && plane > 0 && count_t >= 0, "ops::slerp: empty latent");
  if (count_t == 0) return;
  DW_CHECK(a && b && t && scratch && out, "ops::slerp: null pointer");
  slerp_stats_kernel<<<1, kStatsThreads, 0, stream>>>(a, b, t, count_t, channels, plane,
                                                      mean_center, lerp_threshold, scratch);
  DW_CUDA_CHECK_LAUNCH();
  slerp_apply_launch(a, b, t, count_t, channels, plane, scratch, out, stream);
}

}  // namespace ops
}  // namespace dw::vae::cuda
