// GroupNorm (+ SiLU) over NHWC activations in three steps:
//  1. per (item, pixel chunk, channel): fp32 sum and sum of squares of up to kChunk pixels;
//  2. per (item, group): those partials combined in double -> mean and 1/std;
//  3. elementwise: y = x * scale[c] + shift[c] (then SiLU), padding channels 0.
// The chunked partial sums keep fp32 rounding small; double for the combination keeps
// E[x^2] - E[x]^2 exact enough for activations whose mean is far from zero.
#include "device_common.cuh"

namespace dw::vae::cuda {
namespace {

constexpr int kChunk = 128;  // pixels per partial sum
constexpr int kThreads = 256;

std::size_t chunks_of(int hw) {
  return (static_cast<std::size_t>(hw) + kChunk - 1) / kChunk;
}

// grid: (chunks, n). Thread t reads channel t % lanes of pixel rows t / lanes, t / lanes + rows,
// ...; its sums go to its own shared slot and are added in a fixed order, so the statistics (and
// every result after them) are the same bits on every run.
// Per (chunk of kChunk pixels, item): the sum and the sum of squares of every channel. Each
// thread reads 8 channels at once (16 bytes in fp16); `lanes` threads cover a pixel's channel
// vectors and `rows` pixels are read side by side, then the rows are added in shared memory.
template <typename T>
__global__ void partial_sums_kernel(const T* x, const float* bias, int hw, int cp, int channels,
                                    float2* partials) {
  extern __shared__ float shared[];
  const int vectors = cp / 8;
  const int lanes = vectors < kThreads ? vectors : kThreads;
  const int rows = kThreads / lanes;
  float* sums = shared;                       // [rows][channels]
  float* squares = shared + rows * channels;  // [rows][channels]
  const int chunk = blockIdx.x, item = blockIdx.y;
  const int row = threadIdx.x / lanes, lane = threadIdx.x % lanes;
  const int p0 = chunk * kChunk;
  const int p1 = min(hw, p0 + kChunk);
  if (row < rows) {
    for (int vec = lane; vec < vectors; vec += lanes) {
      const int c0 = vec * 8;
      if (c0 >= channels) break;
      float b[8], s[8], q[8];
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        b[j] = bias && c0 + j < channels ? bias[c0 + j] : 0.0f;
        s[j] = 0.0f;
        q[j] = 0.0f;
      }
      for (int p = p0 + row; p < p1; p += rows) {
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
    for (int r = 0; r < rows; ++r) {
      s += sums[r * channels + c];
      q += squares[r * channels + c];
    }
    out[c] = make_float2(s, q);
  }
}

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

// Per (item, channel) the whole normalisation as one multiply-add: scale = gamma * rstd,
// shift = beta - mean * scale, plus the absorbed conv bias times scale (the statistics were taken
// of x + bias). Padding channels get 0 and 0, so they stay zero.
__global__ void channel_affine_kernel(const float2* stats, const float* bias, const float* gamma,
                                      const float* beta, int channels, int cp, int groups,
                                      float2* affine) {
  const int item = blockIdx.y;
  const int per_group = channels / groups;
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cp; c += gridDim.x * blockDim.x) {
    float scale = 0.0f, shift = 0.0f;
    if (c < channels) {
      const float2 st = stats[item * groups + c / per_group];
      scale = gamma[c] * st.y;
      shift = beta[c] - st.x * scale;
      if (bias) shift += bias[c] * scale;
    }
    affine[std::size_t(item) * cp + c] = make_float2(scale, shift);
  }
}

// y = x * scale + shift (then SiLU), 8 channels per thread; one grid row per batch item so the
// channel of a vector is one 32-bit remainder.
template <typename T>
__global__ void normalize_kernel(const T* x, T* y, unsigned vectors_per_item,
                                 unsigned vectors_per_pixel, const float2* affine, int cp,
                                 bool silu) {
  const std::size_t item = blockIdx.y;
  const T* xi = x + item * vectors_per_item * 8;
  T* yi = y + item * vectors_per_item * 8;
  const float2* a = affine + item * cp;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < vectors_per_item;
       i += gridDim.x * blockDim.x) {
    const unsigned c0 = (i % vectors_per_pixel) * 8;
    float v[8];
    load8(xi + std::size_t(i) * 8, v);
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const float2 sa = __ldg(a + c0 + j);
      float out = v[j] * sa.x + sa.y;
      if (silu) out = out / (1.0f + __expf(-out));
      v[j] = out;
    }
    store8(yi + std::size_t(i) * 8, v);
  }
}

}  // namespace

std::size_t group_norm_scratch_floats(Nhwc shape, int channels, int groups) {
  const std::size_t hw = static_cast<std::size_t>(shape.h) * shape.w;
  return std::size_t(shape.n) * chunks_of(static_cast<int>(hw)) * channels * 2 +  // partials
         std::size_t(shape.n) * groups * 2 +                                      // stats
         std::size_t(shape.n) * shape.cp * 2;                                     // affine
}

void launch_group_norm(DType type, const void* in, const float* in_bias, void* out, Nhwc s,
                       int channels, int groups, float eps, const float* gamma, const float* beta,
                       bool silu, float* scratch, cudaStream_t stream) {
  DW_CHECK(groups > 0 && channels % groups == 0 && channels <= s.cp && s.cp % 8 == 0,
           "launch_group_norm: channels must split into groups and fit the padded channels");
  DW_CHECK(channels <= 4096,
           "launch_group_norm: more than 4096 channels");  // 32 KiB of shared sums
  const int hw = s.h * s.w;
  if (s.n == 0 || hw == 0) return;
  const int chunks = static_cast<int>(chunks_of(hw));
  float2* partials = reinterpret_cast<float2*>(scratch);
  float2* stats = partials + std::size_t(s.n) * chunks * channels;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int vectors = s.cp / 8;
    const int rows = kThreads / (vectors < kThreads ? vectors : kThreads);
    partial_sums_kernel<T>
        <<<dim3(chunks, s.n), kThreads, 2 * rows * channels * sizeof(float), stream>>>(
            static_cast<const T*>(in), in_bias, hw, s.cp, channels, partials);
  });
  DW_CUDA_CHECK_LAUNCH();
  group_stats_kernel<<<dim3(groups, s.n), kThreads, 0, stream>>>(partials, chunks, channels, groups,
                                                                 hw, eps, stats);
  DW_CUDA_CHECK_LAUNCH();
  float2* affine = stats + std::size_t(s.n) * groups;
  channel_affine_kernel<<<dim3((s.cp + kThreads - 1) / kThreads, s.n), kThreads, 0, stream>>>(
      stats, in_bias, gamma, beta, channels, s.cp, groups, affine);
  DW_CUDA_CHECK_LAUNCH();
  const std::size_t per_item = static_cast<std::size_t>(hw) * s.cp / 8;
  DW_CHECK(per_item <= 0x7FFFFFFFu, "launch_group_norm: one image is too large");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    normalize_kernel<T><<<dim3(grid_for(per_item, kThreads), s.n), kThreads, 0, stream>>>(
        static_cast<const T*>(in), static_cast<T*>(out), static_cast<unsigned>(per_item),
        static_cast<unsigned>(s.cp / 8), affine, s.cp, silu);
  });
  DW_CUDA_CHECK_LAUNCH();
}

}  // namespace dw::vae::cuda
