// The one set of pixel conversions between 8-bit RGBA (images, host frames) and [0, 1] image
// tensors, and the PSNR between two image tensors: the backends, the pipeline, the tool, the
// tests and the benchmarks all go through these (the GPU kernels round as unit_to_byte does).
#pragma once

#include <cstdint>

#include "core/frame.h"
#include "core/image.h"
#include "vae/tensor.h"

namespace dw::vae {

// [0, 1] float to 8-bit with rounding; NaN and out-of-range values clamp (NaN to 0).
std::uint8_t unit_to_byte(float v);

// [1, 3, H, W] in [0, 1] (alpha dropped; v / 255 in fp32, exactly as PyTorch computes it).
HostTensor image_to_tensor(const Image& image);
// Item `index` of [N, 3, H, W] in [0, 1] as RGBA8 (unit_to_byte per channel, alpha 255).
Image tensor_to_image(const HostTensor& images, int index = 0);
// The same into a host frame, reusing the frame's buffer.
void tensor_to_frame(const HostTensor& images, int index, Frame& frame);
// The size a w x h image shrinks to so that its longer side is at most max_side (aspect ratio
// kept, each side at least 1); an image already that small keeps its size.
struct ImageSize {
  int width = 0, height = 0;
};
ImageSize shrunk_size(int width, int height, int max_side);
// The image at shrunk_size by box filtering: output pixel (x, y) is the mean of the source cell
// [x*w/out_w, (x+1)*w/out_w) x [y*h/out_h, (y+1)*h/out_h) (integer division), each byte's sum
// rounded half up; alpha 255. The CUDA backend's ops::shrink_frame computes the same on the GPU.
Image shrink_to_fit(const Image& image, int max_side);
// Peak signal-to-noise ratio in dB of two [0, 1] tensors of one shape (capped at 120 dB).
double psnr(const HostTensor& a, const HostTensor& b);

}  // namespace dw::vae
