// Layout ops on NHWC activations (kernels in layout.cu): nearest x2 upsampling (and the
// interleaving step of its fused form), zero padding, channel slices, and the conversions between
// the graph's dense fp32 NCHW tensors and the plan's padded NHWC activations. Each op checks its
// arguments, launches on `stream` and checks the launch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "kernels/vae/types.h"

namespace dw::vae::cuda::ops {

// [N, H, W, cp] -> [N, 2H, 2W, cp], nearest neighbour.
void upsample2x(DType type, const void* in, void* out, Nhwc in_shape, cudaStream_t stream);
// [N, H, W, cp] -> [N, top + H + bottom, left + W + right, cp] with zeros around.
void pad(DType type, const void* in, void* out, Nhwc in_shape, int top, int left, int bottom,
         int right, cudaStream_t stream);
// out[p, c] = in[p, begin + c] for c < channels, 0 for the padding channels up to out_cp.
void slice_channels(DType type, const void* in, int in_cp, int begin, int channels, void* out,
                    int out_cp, std::size_t pixels, cudaStream_t stream);
// The last step of a x2 upsample fused into the 3x3 convolution after it (the plan's sub-pixel
// path): `phases` [n, h + 1, w + 1, 4 * cp] holds, for each output phase (a, b) in {0,1}^2 at
// channel block 2a + b, a 2x2 convolution of the low-resolution input; out [n, 2h, 2w, cp] gets
// out[2i + a, 2j + b, c] = phases[i + a, j + b, (2a + b) * cp + c] + bias[c] (bias: fp32 [cp] or
// null). `low` is the low-resolution shape with the output's cp.
void phases_to_space(DType type, const void* phases, Nhwc low, const float* bias, void* out,
                     cudaStream_t stream);
// Dense fp32 NCHW [n, c, plane] -> NHWC [n, plane, cp] of `type`, v * scale + shift.
void nchw_to_nhwc(DType type, const float* in, void* out, int n, int c, int cp, std::size_t plane,
                  float scale, float shift, cudaStream_t stream);
// NHWC [n, plane, cp] -> dense fp32 NCHW [n, c, plane], v * scale + shift, then (clamp01) clamped
// to [0, 1] with NaN -> 0, exactly as the CPU backend does.
void nhwc_to_nchw(DType type, const void* in, float* out, int n, int c, int cp, std::size_t plane,
                  float scale, float shift, bool clamp01, cudaStream_t stream);

}  // namespace dw::vae::cuda::ops
