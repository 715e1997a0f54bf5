// Elementwise and layout kernels: activations, residual adds, the convolution epilogue, nearest
// upsampling, padding, channel slices, layout/precision conversions and the non-finite check.
#include "device_common.cuh"

namespace dw::vae::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float apply_unary(Unary op, float x) {
  switch (op) {
    case Unary::SiLU:
      return x / (1.0f + expf(-x));
    case Unary::ReLU:
      return fmaxf(x, 0.0f);
    case Unary::TanhClamp:
      return tanhf(x / 3.0f) * 3.0f;
  }
  return x;
}

template <typename T>
__global__ void unary_kernel(Unary op, const T* in, T* out, std::size_t vectors) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < vectors;
       i += std::size_t(gridDim.x) * blockDim.x) {
    float x[8];
    load8(in + i * 8, x);
#pragma unroll
    for (int j = 0; j < 8; ++j) x[j] = apply_unary(op, x[j]);
    store8(out + i * 8, x);
  }
}

template <typename T>
__global__ void add_kernel(const T* a, const T* b, T* out, std::size_t vectors) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < vectors;
       i += std::size_t(gridDim.x) * blockDim.x) {
    float x[8], y[8];
    load8(a + i * 8, x);
    load8(b + i * 8, y);
#pragma unroll
    for (int j = 0; j < 8; ++j) x[j] += y[j];
    store8(out + i * 8, x);
  }
}

template <typename T>
__global__ void conv_epilogue_kernel(T* y, const float* bias, const T* residual,
                                     std::size_t vectors, int cp, bool relu) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < vectors;
       i += std::size_t(gridDim.x) * blockDim.x) {
    float x[8];
    load8(y + i * 8, x);
    if (bias) {
      const int c0 = static_cast<int>((i * 8) % cp);
#pragma unroll
      for (int j = 0; j < 8; ++j) x[j] += bias[c0 + j];
    }
    if (residual) {
      float r[8];
      load8(residual + i * 8, r);
#pragma unroll
      for (int j = 0; j < 8; ++j) x[j] += r[j];
    }
    if (relu) {
#pragma unroll
      for (int j = 0; j < 8; ++j) x[j] = fmaxf(x[j], 0.0f);
    }
    store8(y + i * 8, x);
  }
}

// One thread per output pixel and 8-channel vector.
template <typename T>
__global__ void upsample2x_kernel(const T* in, T* out, int n, int h, int w, int cp) {
  const int vectors_per_pixel = cp / 8;
  const std::size_t total = std::size_t(n) * (2 * h) * (2 * w) * vectors_per_pixel;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const int vec = static_cast<int>(i % vectors_per_pixel);
    const std::size_t pixel = i / vectors_per_pixel;
    const int ox = static_cast<int>(pixel % (2 * w));
    const std::size_t rest = pixel / (2 * w);
    const int oy = static_cast<int>(rest % (2 * h));
    const std::size_t item = rest / (2 * h);
    const std::size_t src = ((item * h + oy / 2) * w + ox / 2) * cp + vec * 8;
    *reinterpret_cast<Vec8<T>*>(out + i * 8) = *reinterpret_cast<const Vec8<T>*>(in + src);
  }
}

template <typename T>
__global__ void pad_kernel(const T* in, T* out, int n, int h, int w, int cp, int top, int left,
                           int oh, int ow) {
  const int vectors_per_pixel = cp / 8;
  const std::size_t total = std::size_t(n) * oh * ow * vectors_per_pixel;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const int vec = static_cast<int>(i % vectors_per_pixel);
    const std::size_t pixel = i / vectors_per_pixel;
    const int ox = static_cast<int>(pixel % ow);
    const std::size_t rest = pixel / ow;
    const int oy = static_cast<int>(rest % oh);
    const std::size_t item = rest / oh;
    const int y = oy - top, x = ox - left;
    Vec8<T> value{};
    if (y >= 0 && y < h && x >= 0 && x < w)
      value = *reinterpret_cast<const Vec8<T>*>(in + ((item * h + y) * w + x) * cp + vec * 8);
    else
      for (int j = 0; j < 8; ++j) value.v[j] = from_float<T>(0.0f);
    *reinterpret_cast<Vec8<T>*>(out + i * 8) = value;
  }
}

template <typename T>
__global__ void slice_channels_kernel(const T* in, int in_cp, int begin, int channels, T* out,
                                      int out_cp, std::size_t pixels) {
  const std::size_t total = pixels * out_cp;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(i % out_cp);
    const std::size_t p = i / out_cp;
    out[i] = c < channels ? in[p * in_cp + begin + c] : from_float<T>(0.0f);
  }
}

// Thread per output element: reads are strided by plane, writes are coalesced.
template <typename T>
__global__ void nchw_to_nhwc_kernel(const float* in, T* out, int n, int c, int cp,
                                    std::size_t plane, float scale, float shift) {
  const std::size_t total = std::size_t(n) * plane * cp;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const int ch = static_cast<int>(i % cp);
    const std::size_t pixel = i / cp;
    const std::size_t item = pixel / plane, p = pixel % plane;
    out[i] = ch < c ? from_float<T>(in[(item * c + ch) * plane + p] * scale + shift)
                    : from_float<T>(0.0f);
  }
}

__device__ __forceinline__ float clamp_unit(float v) {
  return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;  // NaN becomes 0
}

template <typename T>
__global__ void nhwc_to_nchw_kernel(const T* in, float* out, int n, int c, int cp,
                                    std::size_t plane, float scale, float shift, bool clamp01) {
  const std::size_t total = std::size_t(n) * c * plane;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t p = i % plane;
    const std::size_t rest = i / plane;
    const int ch = static_cast<int>(rest % c);
    const std::size_t item = rest / c;
    const float v = to_float(in[(item * plane + p) * cp + ch]) * scale + shift;
    out[i] = clamp01 ? clamp_unit(v) : v;
  }
}

__device__ __forceinline__ unsigned char unit_to_byte(float v) {
  if (!(v > 0.0f)) return 0;
  if (v >= 1.0f) return 255;
  return static_cast<unsigned char>(v * 255.0f + 0.5f);
}

template <typename T>
__global__ void nhwc_to_rgba8_kernel(const T* in, int cp, int h, int w, float scale, float shift,
                                     std::uint8_t* out, std::size_t pitch) {
  const std::size_t total = std::size_t(h) * w;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const int x = static_cast<int>(i % w), y = static_cast<int>(i / w);
    const T* px = in + i * cp;
    uchar4 rgba;
    rgba.x = unit_to_byte(to_float(px[0]) * scale + shift);
    rgba.y = unit_to_byte(to_float(px[1]) * scale + shift);
    rgba.z = unit_to_byte(to_float(px[2]) * scale + shift);
    rgba.w = 255;
    *reinterpret_cast<uchar4*>(out + y * pitch + std::size_t(x) * 4) = rgba;
  }
}

template <typename T>
__global__ void nhwc_to_planar_f16_kernel(const T* in, int cp, int h, int w, float scale,
                                          float shift, __half* out, std::size_t pitch) {
  const std::size_t total = std::size_t(h) * w;
  const std::size_t row_elements = pitch / sizeof(__half);
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const int x = static_cast<int>(i % w), y = static_cast<int>(i / w);
    for (int ch = 0; ch < 3; ++ch)
      out[(std::size_t(ch) * h + y) * row_elements + x] =
          __float2half_rn(clamp_unit(to_float(in[i * cp + ch]) * scale + shift));
  }
}

template <typename T>
__global__ void find_nonfinite_kernel(const T* in, std::size_t count, unsigned* flag) {
  bool bad = false;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < count;
       i += std::size_t(gridDim.x) * blockDim.x)
    bad |= !isfinite(to_float(in[i]));
  if (__any_sync(0xffffffffu, bad) && threadIdx.x % 32 == 0) atomicOr(flag, 1u);
}

void check_vectors(std::size_t count, const char* what) {
  DW_CHECK(count % 8 == 0, std::string(what) + ": element count is not a multiple of 8");
}

}  // namespace

void launch_unary(DType type, Unary op, const void* in, void* out, std::size_t count,
                  cudaStream_t stream) {
  check_vectors(count, "launch_unary");
  if (count == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    unary_kernel<T><<<grid_for(count / 8, kThreads), kThreads, 0, stream>>>(
        op, static_cast<const T*>(in), static_cast<T*>(out), count / 8);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_add(DType type, const void* a, const void* b, void* out, std::size_t count,
                cudaStream_t stream) {
  check_vectors(count, "launch_add");
  if (count == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    add_kernel<T><<<grid_for(count / 8, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out), count / 8);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_conv_epilogue(DType type, void* y, const float* bias, const void* residual,
                          std::size_t count, int cp, bool relu, cudaStream_t stream) {
  check_vectors(count, "launch_conv_epilogue");
  DW_CHECK(cp % 8 == 0 && cp > 0, "launch_conv_epilogue: channels not a multiple of 8");
  if (count == 0 || (!bias && !residual && !relu)) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    conv_epilogue_kernel<T><<<grid_for(count / 8, kThreads), kThreads, 0, stream>>>(
        static_cast<T*>(y), bias, static_cast<const T*>(residual), count / 8, cp, relu);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_upsample2x(DType type, const void* in, void* out, Nhwc s, cudaStream_t stream) {
  DW_CHECK(s.cp % 8 == 0 && s.cp > 0, "launch_upsample2x: channels not a multiple of 8");
  const std::size_t work = s.elements() * 4 / 8;
  if (work == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    upsample2x_kernel<T><<<grid_for(work, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(in), static_cast<T*>(out), s.n, s.h, s.w, s.cp);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_pad(DType type, const void* in, void* out, Nhwc s, int top, int left, int bottom,
                int right, cudaStream_t stream) {
  DW_CHECK(s.cp % 8 == 0 && s.cp > 0, "launch_pad: channels not a multiple of 8");
  DW_CHECK(top >= 0 && left >= 0 && bottom >= 0 && right >= 0, "launch_pad: negative padding");
  const int oh = s.h + top + bottom, ow = s.w + left + right;
  const std::size_t work = std::size_t(s.n) * oh * ow * (s.cp / 8);
  if (work == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    pad_kernel<T><<<grid_for(work, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(in), static_cast<T*>(out), s.n, s.h, s.w, s.cp, top, left, oh, ow);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_slice_channels(DType type, const void* in, int in_cp, int begin, int channels,
                           void* out, int out_cp, std::size_t pixels, cudaStream_t stream) {
  DW_CHECK(begin >= 0 && channels > 0 && begin + channels <= in_cp && channels <= out_cp,
           "launch_slice_channels: channel range out of bounds");
  if (pixels == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    slice_channels_kernel<T><<<grid_for(pixels * out_cp, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(in), in_cp, begin, channels, static_cast<T*>(out), out_cp, pixels);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_nchw_to_nhwc(DType type, const float* in, void* out, int n, int c, int cp,
                         std::size_t plane, float scale, float shift, cudaStream_t stream) {
  DW_CHECK(c > 0 && c <= cp, "launch_nchw_to_nhwc: channels exceed the padded channels");
  const std::size_t work = std::size_t(n) * plane * cp;
  if (work == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    nchw_to_nhwc_kernel<T><<<grid_for(work, kThreads), kThreads, 0, stream>>>(
        in, static_cast<T*>(out), n, c, cp, plane, scale, shift);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_nhwc_to_nchw(DType type, const void* in, float* out, int n, int c, int cp,
                         std::size_t plane, float scale, float shift, bool clamp01,
                         cudaStream_t stream) {
  DW_CHECK(c > 0 && c <= cp, "launch_nhwc_to_nchw: channels exceed the padded channels");
  const std::size_t work = std::size_t(n) * plane * c;
  if (work == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    nhwc_to_nchw_kernel<T><<<grid_for(work, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(in), out, n, c, cp, plane, scale, shift, clamp01);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_nhwc_to_rgba8(DType type, const void* in, int cp, int h, int w, float scale,
                          float shift, std::uint8_t* out, std::size_t pitch, cudaStream_t stream) {
  DW_CHECK(cp >= 3 && pitch >= std::size_t(w) * 4 && pitch % 4 == 0,
           "launch_nhwc_to_rgba8: needs 3 channels and a pitch of at least 4 * width");
  if (std::size_t(h) * w == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    nhwc_to_rgba8_kernel<T><<<grid_for(std::size_t(h) * w, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(in), cp, h, w, scale, shift, out, pitch);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_nhwc_to_planar_f16(DType type, const void* in, int cp, int h, int w, float scale,
                               float shift, void* out, std::size_t pitch, cudaStream_t stream) {
  DW_CHECK(cp >= 3 && pitch >= std::size_t(w) * 2 && pitch % 2 == 0,
           "launch_nhwc_to_planar_f16: needs 3 channels and a pitch of at least 2 * width");
  if (std::size_t(h) * w == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    nhwc_to_planar_f16_kernel<T><<<grid_for(std::size_t(h) * w, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(in), cp, h, w, scale, shift, static_cast<__half*>(out), pitch);
  });
  DW_CUDA_CHECK_LAUNCH();
}

void launch_find_nonfinite(DType type, const void* in, std::size_t count, unsigned* flag,
                           cudaStream_t stream) {
  if (count == 0) return;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    find_nonfinite_kernel<T><<<grid_for(count, kThreads), kThreads, 0, stream>>>(
        static_cast<const T*>(in), count, flag);
  });
  DW_CUDA_CHECK_LAUNCH();
}

}  // namespace dw::vae::cuda
