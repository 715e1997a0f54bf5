// GPU frame -> GL texture through a surface object. kernel -> launcher -> op (checks).
#include <cuda_fp16.h>

#include "core/cuda_error.h"
#include "kernels/render/frame_to_surface.h"

namespace dw::render {
namespace {

__device__ __forceinline__ unsigned char to_byte(float v, float offset) {
  // unit_to_byte (src/vae/slerp.cpp) when offset is 0.5; NaN becomes 0.
  const float scaled = v * 255.0f + offset;
  if (!(scaled > 0.0f)) return 0;
  if (scaled >= 255.0f) return 255;
  return static_cast<unsigned char>(scaled);
}

// grid: 2-D blocks of 32x8 pixels, one thread per pixel (the surface's layout is tiled, so a
// 2-D block writes fewer of its tiles than a row would).
__global__ void frame_to_surface_kernel(const unsigned char* pixels, bool planar, std::size_t pitch,
                                        int width, int height, bool dither,
                                        cudaSurfaceObject_t surface) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= width || y >= height) return;
  uchar4 out;
  if (!planar) {
    out = *reinterpret_cast<const uchar4*>(pixels + y * pitch + std::size_t(x) * 4);
  } else {
    // 4x4 Bayer matrix: thresholds (i + 0.5) / 16 replace the rounding offset 0.5.
    constexpr unsigned char kBayer[4][4] = {
        {0, 8, 2, 10}, {12, 4, 14, 6}, {3, 11, 1, 9}, {15, 7, 13, 5}};
    const float offset = dither ? (kBayer[y & 3][x & 3] + 0.5f) / 16.0f : 0.5f;
    auto plane = [&](int c) {
      const __half* row =
          reinterpret_cast<const __half*>(pixels + (std::size_t(c) * height + y) * pitch);
      return to_byte(__half2float(row[x]), offset);
    };
    out = make_uchar4(plane(0), plane(1), plane(2), 255);
  }
  surf2Dwrite(out, surface, x * 4, y);
}

void frame_to_surface_launch(const unsigned char* pixels, bool planar, std::size_t pitch, int width,
                             int height, bool dither, cudaSurfaceObject_t surface,
                             cudaStream_t stream) {
  const dim3 block(32, 8);
  const dim3 grid((width + block.x - 1) / block.x, (height + block.y - 1) / block.y);
  frame_to_surface_kernel<<<grid, block, 0, stream>>>(pixels, planar, pitch, width, height, dither,
                                                      surface);
  DW_CUDA_CHECK_LAUNCH();
}

}  // namespace

namespace ops {

void frame_to_surface(const void* pixels, DevicePixelFormat format, std::size_t pitch, int width,
                      int height, bool dither, cudaSurfaceObject_t surface, cudaStream_t stream) {
  DW_CHECK(pixels && width > 0 && height > 0, "ops::frame_to_surface: empty frame");
  const bool planar = format == DevicePixelFormat::PlanarF16Unit;
  DW_CHECK(pitch >= std::size_t(width) * (planar ? 2 : 4),
           "ops::frame_to_surface: pitch smaller than a row");
  frame_to_surface_launch(static_cast<const unsigned char*>(pixels), planar, pitch, width, height,
                          dither, surface, stream);
}

}  // namespace ops
}  // namespace dw::render
