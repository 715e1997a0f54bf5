// Layout kernels: nearest x2 upsampling, zero padding, channel slices and NCHW <-> NHWC
// conversions. kernel (a grid-stride body) -> launcher (typed, on a stream) -> op (checks).
#include "kernels/common/device_math.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/vae/dispatch.cuh"
#include "kernels/vae/layout.h"

namespace dw::vae::cuda {
namespace {

using kernels::clamp_unit;
using kernels::from_float;
using kernels::launch_grid_stride;
using kernels::load8;
using kernels::store8;
using kernels::to_float;
using kernels::Vec8;

// Where flat index i of an NHWC tensor [n, height, width, vectors_per_pixel * 8] walked in
// 8-channel vectors lands: its vector within the pixel, the pixel's column and row, the item.
struct PixelVector {
  int vec, x, y;
  std::size_t item;
  __device__ PixelVector(std::size_t i, int vectors_per_pixel, int width, int height) {
    vec = static_cast<int>(i % vectors_per_pixel);
    const std::size_t pixel = i / vectors_per_pixel;
    x = static_cast<int>(pixel % width);
    const std::size_t rest = pixel / width;
    y = static_cast<int>(rest % height);
    item = rest / height;
  }
};

// One index per output pixel and 8-channel vector.
template <typename T>
void upsample2x_launch(const T* in, T* out, Nhwc s, cudaStream_t stream) {
  const int vectors_per_pixel = s.cp / 8, h = s.h, w = s.w, cp = s.cp;
  const std::size_t total = std::size_t(s.n) * (2 * h) * (2 * w) * vectors_per_pixel;
  launch_grid_stride(total, stream, [=] __device__(std::size_t i) {
    const PixelVector p(i, vectors_per_pixel, 2 * w, 2 * h);
    const std::size_t src = ((p.item * h + p.y / 2) * w + p.x / 2) * cp + p.vec * 8;
    *reinterpret_cast<Vec8<T>*>(out + i * 8) = *reinterpret_cast<const Vec8<T>*>(in + src);
  });
}

// One index per output pixel and 8-channel vector.
template <typename T>
void phases_to_space_launch(const T* phases, Nhwc low, const float* bias, T* out,
                            cudaStream_t stream) {
  const int vectors_per_pixel = low.cp / 8, h = low.h, w = low.w, cp = low.cp;
  const std::size_t total = std::size_t(low.n) * (2 * h) * (2 * w) * vectors_per_pixel;
  launch_grid_stride(total, stream, [=] __device__(std::size_t i) {
    const PixelVector p(i, vectors_per_pixel, 2 * w, 2 * h);
    const int a = p.y & 1, b = p.x & 1;
    const std::size_t src = ((p.item * (h + 1) + p.y / 2 + a) * (w + 1) + p.x / 2 + b) * (4 * cp) +
                            (2 * a + b) * cp + p.vec * 8;
    float v[8];
    load8(phases + src, v);
    if (bias) {
#pragma unroll
      for (int j = 0; j < 8; ++j) v[j] += bias[p.vec * 8 + j];
    }
    store8(out + i * 8, v);
  });
}

template <typename T>
void pad_launch(const T* in, T* out, Nhwc s, int top, int left, int oh, int ow,
                cudaStream_t stream) {
  const int vectors_per_pixel = s.cp / 8, h = s.h, w = s.w, cp = s.cp;
  const std::size_t total = std::size_t(s.n) * oh * ow * vectors_per_pixel;
  launch_grid_stride(total, stream, [=] __device__(std::size_t i) {
    const PixelVector p(i, vectors_per_pixel, ow, oh);
    const int y = p.y - top, x = p.x - left;
    Vec8<T> value;
    if (y >= 0 && y < h && x >= 0 && x < w) {
      value = *reinterpret_cast<const Vec8<T>*>(in + ((p.item * h + y) * w + x) * cp + p.vec * 8);
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) value.v[j] = from_float<T>(0.0f);
    }
    *reinterpret_cast<Vec8<T>*>(out + i * 8) = value;
  });
}

template <typename T>
void slice_channels_launch(const T* in, int in_cp, int begin, int channels, T* out, int out_cp,
                           std::size_t pixels, cudaStream_t stream) {
  launch_grid_stride(pixels * out_cp, stream, [=] __device__(std::size_t i) {
    const int c = static_cast<int>(i % out_cp);
    const std::size_t p = i / out_cp;
    out[i] = c < channels ? in[p * in_cp + begin + c] : from_float<T>(0.0f);
  });
}

// One index per output element: reads are strided by plane, writes are coalesced.
template <typename T>
void nchw_to_nhwc_launch(const float* in, T* out, int n, int c, int cp, std::size_t plane,
                         float scale, float shift, cudaStream_t stream) {
  launch_grid_stride(std::size_t(n) * plane * cp, stream, [=] __device__(std::size_t i) {
    const int ch = static_cast<int>(i % cp);
    const std::size_t pixel = i / cp;
    const std::size_t item = pixel / plane, p = pixel % plane;
    out[i] = ch < c ? from_float<T>(in[(item * c + ch) * plane + p] * scale + shift)
                    : from_float<T>(0.0f);
  });
}

template <typename T>
void nhwc_to_nchw_launch(const T* in, float* out, int n, int c, int cp, std::size_t plane,
                         float scale, float shift, bool clamp01, cudaStream_t stream) {
  launch_grid_stride(std::size_t(n) * c * plane, stream, [=] __device__(std::size_t i) {
    const std::size_t p = i % plane;
    const std::size_t rest = i / plane;
    const int ch = static_cast<int>(rest % c);
    const std::size_t item = rest / c;
    const float v = to_float(in[(item * plane + p) * cp + ch]) * scale + shift;
    out[i] = clamp01 ? clamp_unit(v) : v;
  });
}

}  // namespace

namespace ops {

void upsample2x(DType type, const void* in, void* out, Nhwc s, cudaStream_t stream) {
  DW_CHECK(s.cp % 8 == 0 && s.cp > 0, "ops::upsample2x: channels not a multiple of 8");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    upsample2x_launch<T>(static_cast<const T*>(in), static_cast<T*>(out), s, stream);
  });
}

void phases_to_space(DType type, const void* phases, Nhwc low, const float* bias, void* out,
                     cudaStream_t stream) {
  DW_CHECK(low.cp % 8 == 0 && low.cp > 0, "ops::phases_to_space: channels not a multiple of 8");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    phases_to_space_launch<T>(static_cast<const T*>(phases), low, bias, static_cast<T*>(out),
                              stream);
  });
}

void pad(DType type, const void* in, void* out, Nhwc s, int top, int left, int bottom, int right,
         cudaStream_t stream) {
  DW_CHECK(s.cp % 8 == 0 && s.cp > 0, "ops::pad: channels not a multiple of 8");
  DW_CHECK(top >= 0 && left >= 0 && bottom >= 0 && right >= 0, "ops::pad: negative padding");
  const int oh = s.h + top + bottom, ow = s.w + left + right;
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    pad_launch<T>(static_cast<const T*>(in), static_cast<T*>(out), s, top, left, oh, ow, stream);
  });
}

void slice_channels(DType type, const void* in, int in_cp, int begin, int channels, void* out,
                    int out_cp, std::size_t pixels, cudaStream_t stream) {
  DW_CHECK(begin >= 0 && channels > 0 && begin + channels <= in_cp && channels <= out_cp,
           "ops::slice_channels: channel range out of bounds");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    slice_channels_launch<T>(static_cast<const T*>(in), in_cp, begin, channels,
                             static_cast<T*>(out), out_cp, pixels, stream);
  });
}

void nchw_to_nhwc(DType type, const float* in, void* out, int n, int c, int cp, std::size_t plane,
                  float scale, float shift, cudaStream_t stream) {
  DW_CHECK(c > 0 && c <= cp, "ops::nchw_to_nhwc: channels exceed the padded channels");
  DW_CHECK(n >= 0, "ops::nchw_to_nhwc: negative batch");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    nchw_to_nhwc_launch<T>(in, static_cast<T*>(out), n, c, cp, plane, scale, shift, stream);
  });
}

void nhwc_to_nchw(DType type, const void* in, float* out, int n, int c, int cp, std::size_t plane,
                  float scale, float shift, bool clamp01, cudaStream_t stream) {
  DW_CHECK(c > 0 && c <= cp, "ops::nhwc_to_nchw: channels exceed the padded channels");
  DW_CHECK(n >= 0, "ops::nhwc_to_nchw: negative batch");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    nhwc_to_nchw_launch<T>(static_cast<const T*>(in), out, n, c, cp, plane, scale, shift, clamp01,
                           stream);
  });
}

}  // namespace ops
}  // namespace dw::vae::cuda
