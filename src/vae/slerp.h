// Batched latent interpolation and the host-side pixel conversions, shared by the CPU backend
// and usable as the reference for any other backend.
#pragma once

#include <cstdint>
#include <span>

#include "core/frame.h"
#include "vae/backend.h"
#include "vae/tensor.h"

namespace dw::vae {

// a, b: [1, C, h, w] -> [T, C, h, w]. Spherical interpolation over the whole latent with the
// norm interpolated linearly; linear interpolation when sin(omega) < options.lerp_threshold or
// either side is (near) zero. With options.mean_center the per-channel means are taken out
// before and their linear interpolation put back after. Throws dw::Error on shape mismatch.
HostTensor slerp_host(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                      const SlerpOptions& options);

// [0, 1] float to 8-bit with rounding; NaN and out-of-range values clamp (NaN to 0).
std::uint8_t unit_to_byte(float v);

// images: [N, 3, H, W] in [0, 1]; writes item `index` into `frame` as host RGBA8 (alpha 255),
// reusing the frame's buffer.
void tensor_to_frame(const HostTensor& images, int index, Frame& frame);

}  // namespace dw::vae
