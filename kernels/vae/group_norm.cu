// GroupNorm (+ SiLU) over NHWC activations in four launches:
//  1. per (item, chunk of kChunk pixels, channel): fp32 sum and sum of squares;
//  2. per (item, group): those partials combined in double -> mean and 1/std;
//  3. per (item, channel): the normalisation folded into one scale and shift;
//  4. elementwise: y = x * scale[c] + shift[c] (then SiLU), padding channels 0.
// The chunked partial sums keep fp32 rounding small; double for the combination keeps
// E[x^2] - E[x]^2 exact enough for activations whose mean is far from zero. Every sum is taken in
// a fixed order, so the statistics (and every result after them) are the same bits on every run.
#include "kernels/common/device_math.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/vae/dispatch.cuh"
#include "kernels/vae/group_norm.h"

namespace dw::vae::cuda {
namespace {

using kernels::block_sum;
using kernels::launch_grid_stride_rows;
using kernels::load8;
using kernels::store8;

constexpr int kChunk = 128;  // pixels per partial sum
constexpr int kThreads = 256;
constexpr int kMaxChannels = 4096;  // 2 * rows * channels floats of shared memory must fit

std::size_t chunks_of(int hw) {
  return (static_cast<std::size_t>(hw) + kChunk - 1) / kChunk;
}

// The thread layout of the partial sums: a pixel's channels are cp / 8 vectors of 8; `lanes`
// threads side by side cover those vectors (thread t takes vectors t % lanes, t % lanes + lanes,
// ...), and the block's kThreads / lanes `rows` of threads take different pixels of the chunk
// (row r takes pixels p0 + r, p0 + r + rows, ...).
struct SumsLayout {
  int lanes, rows;
  __host__ __device__ explicit SumsLayout(int cp) {
    const int vectors = cp / 8;
    lanes = vectors < kThreads ? vectors : kThreads;
    rows = kThreads / lanes;
  }
};

// grid (chunks, n). Each thread sums its vectors over its pixels in registers, writes them to its
// row's shared slot, and the rows are then added in row order.
template <typename T>
__global__ void partial_sums_kernel(const T* x, const float* bias, int hw, int cp, int channels,
                                    float2* partials) {
  extern __shared__ float shared[];
  const SumsLayout layout(cp);
  float* sums = shared;                              // [rows][channels]
  float* squares = shared + layout.rows * channels;  // [rows][channels]
  const int chunk = blockIdx.x, item = blockIdx.y;
  const int row = threadIdx.x / layout.lanes, lane = threadIdx.x % layout.lanes;
  const int p0 = chunk * kChunk;
  const int p1 = min(hw, p0 + kChunk);
  if (row < layout.rows) {
    for (int vec = lane; vec < cp / 8; vec += layout.lanes) {
      const int c0 = vec * 8;
      if (c0 >= channels) break;
      float b[8], s[8], q[8];
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        b[j] = bias && c0 + j < channels ? bias[c0 + j] : 0.0f;
        s[j] = 0.0f;
        q[j] = 0.0f;
      }
      for (int p = p0 + row; p < p1; p += layout.rows) {
        float v[8];
        load8(x + (std::size_t(item) * hw + p) * cp + c0, v);
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          const float t = v[j] + b[j];
          s[j] += t;
          q[j] += t * t;
        }
      }
#pragma unroll
      for (int j = 0; j < 8; ++j)
        if (c0 + j < channels) {
          sums[row * channels + c0 + j] = s[j];
          squares[row * channels + c0 + j] = q[j];
        }
    }
  }
  __syncthreads();
  float2* out = partials + (std::size_t(item) * gridDim.x + chunk) * channels;
  for (int c = threadIdx.x; c < channels; c += blockDim.x) {
    float s = 0.0f, q = 0.0f;
    for (int r = 0; r < layout.rows; ++r) {
      s += sums[r * channels + c];
      q += squares[r * channels + c];
    }
    out[c] = make_float2(s, q);
  }
}

// grid (groups, n): one block combines every partial of its group.
__global__ void group_stats_kernel(const float2* partials, int chunks, int channels, int groups,
                                   int hw, float eps, float2* stats) {
  const int g = blockIdx.x, item = blockIdx.y;
  const int per_group = channels / groups;
  const int entries = chunks * per_group;
  double s = 0.0, q = 0.0;
  for (int e = threadIdx.x; e < entries; e += blockDim.x) {
    const int chunk = e / per_group, c = g * per_group + e % per_group;
    const float2 v = partials[(std::size_t(item) * chunks + chunk) * channels + c];
    s += v.x;
    q += v.y;
  }
  s = block_sum(s);
  q = block_sum(q);
  if (threadIdx.x == 0) {
    const double count = double(hw) * per_group;
    const double mean = s / count;
    const double variance = fmax(q / count - mean * mean, 0.0);
    stats[item * groups + g] =
        make_float2(static_cast<float>(mean), static_cast<float>(1.0 / sqrt(variance + eps)));
  }
}

template <typename T>
void partial_sums_launch(const T* x, const float* bias, Nhwc s, int channels, int chunks,
                         float2* partials, cudaStream_t stream) {
  const SumsLayout layout(s.cp);
  const std::size_t shared = 2 * std::size_t(layout.rows) * channels * sizeof(float);
  partial_sums_kernel<T><<<dim3(chunks, s.n), kThreads, shared, stream>>>(x, bias, s.h * s.w, s.cp,
                                                                          channels, partials);
  DW_CUDA_CHECK_LAUNCH();
}

// Per (item, channel) the whole normalisation as one multiply-add: scale = gamma * rstd,
// shift = beta - mean * scale, plus the absorbed conv bias times scale (the statistics were taken
// of x + bias). Padding channels get 0 and 0, so they stay zero. One row per batch item.
void channel_affine_launch(const float2* stats, const float* bias, const float* gamma,
                           const float* beta, int n, int channels, int cp, int groups,
                           float2* affine, cudaStream_t stream) {
  const int per_group = channels / groups;
  launch_grid_stride_rows(n, cp, stream, [=] __device__(unsigned item, unsigned c) {
    float scale = 0.0f, shift = 0.0f;
    if (c < unsigned(channels)) {
      const float2 st = stats[item * groups + c / per_group];
      scale = gamma[c] * st.y;
      shift = beta[c] - st.x * scale;
      if (bias) shift += bias[c] * scale;
    }
    affine[std::size_t(item) * cp + c] = make_float2(scale, shift);
  });
}

// y = x * scale + shift (then SiLU), one 8-channel vector per index; one row per batch item, so
// the channel of a vector is one 32-bit remainder.
template <typename T>
void normalize_launch(const T* x, T* y, Nhwc s, const float2* affine, bool silu,
                      cudaStream_t stream) {
  const unsigned per_item = static_cast<unsigned>(std::size_t(s.h) * s.w * s.cp / 8);
  const unsigned vectors_per_pixel = static_cast<unsigned>(s.cp / 8);
  const int cp = s.cp;
  launch_grid_stride_rows(s.n, per_item, stream, [=] __device__(unsigned item, unsigned i) {
    const std::size_t vector = std::size_t(item) * per_item + i;
    const float2* a = affine + std::size_t(item) * cp;
    const unsigned c0 = (i % vectors_per_pixel) * 8;
    float v[8];
    load8(x + vector * 8, v);
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const float2 sa = __ldg(a + c0 + j);
      float out = v[j] * sa.x + sa.y;
      if (silu) out = out / (1.0f + __expf(-out));
      v[j] = out;
    }
    store8(y + vector * 8, v);
  });
}

}  // namespace

namespace ops {

std::size_t group_norm_scratch_floats(Nhwc shape, int channels, int groups) {
  const std::size_t hw = static_cast<std::size_t>(shape.h) * shape.w;
  return std::size_t(shape.n) * chunks_of(static_cast<int>(hw)) * channels * 2 +  // partials
         std::size_t(shape.n) * groups * 2 +                                      // stats
         std::size_t(shape.n) * shape.cp * 2;                                     // affine
}

void group_norm(DType type, const void* in, const float* in_bias, void* out, Nhwc s, int channels,
                int groups, float eps, const float* gamma, const float* beta, bool silu,
                float* scratch, cudaStream_t stream) {
  DW_CHECK(groups > 0 && channels % groups == 0 && channels <= s.cp && s.cp % 8 == 0,
           "ops::group_norm: channels must split into groups and fit the padded channels");
  DW_CHECK(channels <= kMaxChannels, "ops::group_norm: more than 4096 channels");
  DW_CHECK(static_cast<long long>(s.h) * s.w * s.cp / 8 <= 0x7FFFFFFF,
           "ops::group_norm: one image is too large");
  DW_CHECK(s.n <= 65535, "ops::group_norm: batch larger than 65535");
  const int hw = s.h * s.w;
  if (s.n == 0 || hw == 0) return;
  const int chunks = static_cast<int>(chunks_of(hw));
  float2* partials = reinterpret_cast<float2*>(scratch);
  float2* stats = partials + std::size_t(s.n) * chunks * channels;
  float2* affine = stats + std::size_t(s.n) * groups;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    partial_sums_launch<T>(static_cast<const T*>(in), in_bias, s, channels, chunks, partials,
                           stream);
  });
  group_stats_kernel<<<dim3(groups, s.n), kThreads, 0, stream>>>(partials, chunks, channels, groups,
                                                                 hw, eps, stats);
  DW_CUDA_CHECK_LAUNCH();
  channel_affine_launch(stats, in_bias, gamma, beta, s.n, channels, s.cp, groups, affine, stream);
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    normalize_launch<T>(static_cast<const T*>(in), static_cast<T*>(out), s, affine, silu, stream);
  });
}

}  // namespace ops
}  // namespace dw::vae::cuda
