// Conversions between 8-bit RGBA images and [0, 1] image tensors, and the PSNR between two
// image tensors: what the tool, the tests and the benchmarks share at the pixel boundary.
#pragma once

#include "core/image.h"
#include "vae/tensor.h"

namespace dw::vae {

// [1, 3, H, W] in [0, 1] (alpha dropped; v / 255 in fp32, exactly as PyTorch computes it).
HostTensor image_to_tensor(const Image& image);
// Item `index` of [N, 3, H, W] in [0, 1] as RGBA8 (rounded, clamped, NaN to 0, alpha 255).
Image tensor_to_image(const HostTensor& images, int index);
// Peak signal-to-noise ratio in dB of two [0, 1] tensors of one shape (capped at 120 dB).
double psnr(const HostTensor& a, const HostTensor& b);

}  // namespace dw::vae
