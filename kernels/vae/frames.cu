// Frame kernels: decoded NHWC images -> RGBA8 or fp16-planar frame pixels, and the box-filtered
// small copy of a frame. kernel (a grid-stride body) -> launcher (typed, on a stream) -> op.
#include "kernels/common/device_math.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/vae/dispatch.cuh"
#include "kernels/vae/frames.h"

namespace dw::vae::cuda {
namespace {

using kernels::clamp_unit;
using kernels::launch_grid_stride;
using kernels::to_float;
using kernels::unit_to_byte;

template <typename T>
void nhwc_to_rgba8_launch(const T* in, int cp, int h, int w, float scale, float shift,
                          std::uint8_t* out, std::size_t pitch, cudaStream_t stream) {
  launch_grid_stride(std::size_t(h) * w, stream, [=] __device__(std::size_t i) {
    const int x = static_cast<int>(i % w), y = static_cast<int>(i / w);
    const T* px = in + i * cp;
    uchar4 rgba;
    rgba.x = unit_to_byte(to_float(px[0]) * scale + shift);
    rgba.y = unit_to_byte(to_float(px[1]) * scale + shift);
    rgba.z = unit_to_byte(to_float(px[2]) * scale + shift);
    rgba.w = 255;
    *reinterpret_cast<uchar4*>(out + y * pitch + std::size_t(x) * 4) = rgba;
  });
}

template <typename T>
void nhwc_to_planar_f16_launch(const T* in, int cp, int h, int w, float scale, float shift,
                               __half* out, std::size_t pitch, cudaStream_t stream) {
  const std::size_t row_elements = pitch / sizeof(__half);
  launch_grid_stride(std::size_t(h) * w, stream, [=] __device__(std::size_t i) {
    const int x = static_cast<int>(i % w), y = static_cast<int>(i / w);
    for (int ch = 0; ch < 3; ++ch)
      out[(std::size_t(ch) * h + y) * row_elements + x] =
          __float2half_rn(clamp_unit(to_float(in[i * cp + ch]) * scale + shift));
  });
}

// The source pixels [x0, x1) x [y0, y1) that output pixel i of an out_w x out_h image averages.
struct Cell {
  int x0, x1, y0, y1;
  __device__ Cell(std::size_t i, int out_w, int out_h, int w, int h) {
    const long long ox = static_cast<long long>(i % out_w), oy = static_cast<long long>(i / out_w);
    x0 = static_cast<int>(ox * w / out_w);
    x1 = static_cast<int>((ox + 1) * w / out_w);
    y0 = static_cast<int>(oy * h / out_h);
    y1 = static_cast<int>((oy + 1) * h / out_h);
  }
  __device__ unsigned count() const { return unsigned(x1 - x0) * unsigned(y1 - y0); }
};

void shrink_rgba8_launch(const std::uint8_t* pixels, std::size_t pitch, int w, int h,
                         std::uint8_t* out, int out_w, int out_h, cudaStream_t stream) {
  launch_grid_stride(std::size_t(out_w) * out_h, stream, [=] __device__(std::size_t i) {
    const Cell cell(i, out_w, out_h, w, h);
    unsigned sum[3] = {0, 0, 0};
    for (int y = cell.y0; y < cell.y1; ++y)
      for (int x = cell.x0; x < cell.x1; ++x) {
        const uchar4 p = *reinterpret_cast<const uchar4*>(pixels + y * pitch + std::size_t(x) * 4);
        sum[0] += p.x;
        sum[1] += p.y;
        sum[2] += p.z;
      }
    const unsigned count = cell.count();
    uchar4 result;
    result.x = static_cast<unsigned char>((sum[0] + count / 2) / count);
    result.y = static_cast<unsigned char>((sum[1] + count / 2) / count);
    result.z = static_cast<unsigned char>((sum[2] + count / 2) / count);
    result.w = 255;
    reinterpret_cast<uchar4*>(out)[i] = result;
  });
}

void shrink_planar_f16_launch(const std::uint8_t* pixels, std::size_t pitch, int w, int h,
                              std::uint8_t* out, int out_w, int out_h, cudaStream_t stream) {
  launch_grid_stride(std::size_t(out_w) * out_h, stream, [=] __device__(std::size_t i) {
    const Cell cell(i, out_w, out_h, w, h);
    unsigned char rgb[3];
    for (int c = 0; c < 3; ++c) {
      float sum = 0.0f;
      for (int y = cell.y0; y < cell.y1; ++y) {
        const __half* row =
            reinterpret_cast<const __half*>(pixels + (std::size_t(c) * h + y) * pitch);
        for (int x = cell.x0; x < cell.x1; ++x) sum += __half2float(row[x]);
      }
      rgb[c] = unit_to_byte(sum / float(cell.count()));
    }
    reinterpret_cast<uchar4*>(out)[i] = make_uchar4(rgb[0], rgb[1], rgb[2], 255);
  });
}

}  // namespace

namespace ops {

void nhwc_to_rgba8(DType type, const void* in, int cp, int h, int w, float scale, float shift,
                   std::uint8_t* out, std::size_t pitch, cudaStream_t stream) {
  DW_CHECK(cp >= 3 && h >= 0 && w >= 0 && pitch >= std::size_t(w) * 4 && pitch % 4 == 0,
           "ops::nhwc_to_rgba8: needs 3 channels and a pitch of at least 4 * width");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    nhwc_to_rgba8_launch<T>(static_cast<const T*>(in), cp, h, w, scale, shift, out, pitch, stream);
  });
}

void nhwc_to_planar_f16(DType type, const void* in, int cp, int h, int w, float scale, float shift,
                        void* out, std::size_t pitch, cudaStream_t stream) {
  DW_CHECK(cp >= 3 && h >= 0 && w >= 0 && pitch >= std::size_t(w) * 2 && pitch % 2 == 0,
           "ops::nhwc_to_planar_f16: needs 3 channels and a pitch of at least 2 * width");
  dispatch(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    nhwc_to_planar_f16_launch<T>(static_cast<const T*>(in), cp, h, w, scale, shift,
                                 static_cast<__half*>(out), pitch, stream);
  });
}

void shrink_frame(const void* pixels, DevicePixelFormat format, std::size_t pitch, int w, int h,
                  std::uint8_t* out, int out_w, int out_h, cudaStream_t stream) {
  DW_CHECK(pixels && out, "ops::shrink_frame: null frame");
  DW_CHECK(out_w > 0 && out_h > 0 && out_w <= w && out_h <= h,
           "ops::shrink_frame: the small image must be non-empty and no larger than the frame");
  const auto* bytes = static_cast<const std::uint8_t*>(pixels);
  if (format == DevicePixelFormat::Rgba8) {
    DW_CHECK(pitch >= std::size_t(w) * 4 && pitch % 4 == 0,
             "ops::shrink_frame: RGBA8 pitch smaller than a row");
    shrink_rgba8_launch(bytes, pitch, w, h, out, out_w, out_h, stream);
  } else {
    DW_CHECK(pitch >= std::size_t(w) * 2 && pitch % 2 == 0,
             "ops::shrink_frame: fp16 plane pitch smaller than a row");
    shrink_planar_f16_launch(bytes, pitch, w, h, out, out_w, out_h, stream);
  }
}

}  // namespace ops
}  // namespace dw::vae::cuda
