// Batched latent interpolation, shared by the CPU backend and usable as the reference for any
// other backend. (The pixel conversions are in vae/pixels.h.)
#pragma once

#include <span>

#include "vae/backend.h"
#include "vae/tensor.h"

namespace dw::vae {

// a, b: [1, C, h, w] -> [T, C, h, w]. Spherical interpolation over the whole latent with the
// norm interpolated linearly; linear interpolation when sin(omega) < options.lerp_threshold or
// either side is (near) zero. With options.mean_center the per-channel means are taken out
// before and their linear interpolation put back after. Throws dw::Error on shape mismatch.
HostTensor slerp_host(const HostTensor& a, const HostTensor& b, std::span<const float> t,
                      const SlerpOptions& options);

}  // namespace dw::vae
