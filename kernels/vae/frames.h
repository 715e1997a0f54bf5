// Frame ops (kernels in frames.cu): one decoded NHWC image -> the pixels of a GPU-resident frame
// (RGBA8, or fp16 planes in [0, 1]), and a frame -> a small RGBA8 copy by box filtering (what the
// cache analyses, so that only a small image ever crosses to the host). Each op checks its
// arguments, launches on `stream` and checks the launch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "core/frame.h"
#include "kernels/vae/types.h"

namespace dw::vae::cuda::ops {

// One image [h, w, cp] (first 3 channels) -> RGBA8 rows of `pitch` bytes: v * scale + shift,
// rounded like the CPU's unit_to_byte, alpha 255.
void nhwc_to_rgba8(DType type, const void* in, int cp, int h, int w, float scale, float shift,
                   std::uint8_t* out, std::size_t pitch, cudaStream_t stream);
// One image [h, w, cp] -> fp16 planes [3, h, w] in [0, 1] (rows of `pitch` bytes).
void nhwc_to_planar_f16(DType type, const void* in, int cp, int h, int w, float scale, float shift,
                        void* out, std::size_t pitch, cudaStream_t stream);
// A frame of w x h in `format` (rows of `pitch` bytes) -> dense RGBA8 [out_h, out_w], out_w <= w,
// out_h <= h. Output pixel (x, y) is the mean of the source cell [x*w/out_w, (x+1)*w/out_w) x
// [y*h/out_h, (y+1)*h/out_h) (integer division): bytes averaged and rounded half up for RGBA8,
// [0, 1] values averaged then rounded like unit_to_byte for fp16 planes; alpha 255.
void shrink_frame(const void* pixels, DevicePixelFormat format, std::size_t pitch, int w, int h,
                  std::uint8_t* out, int out_w, int out_h, cudaStream_t stream);

}  // namespace dw::vae::cuda::ops
