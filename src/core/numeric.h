// Small integer helpers shared across areas, so each rounding rule is written once.
#pragma once

#include <algorithm>

namespace dw {

// `value` rounded to the nearest multiple of `multiple` (halves up), and at least `multiple`:
// keyframe sizes (multiples of 8 for the VAE and the sampler).
constexpr int round_to_multiple(int value, int multiple) {
  return std::max(multiple, (value + multiple / 2) / multiple * multiple);
}

// `value` rounded up to a multiple of `multiple` (padding: channel counts, buffer sizes).
constexpr int round_up_to_multiple(int value, int multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// A keyframe's width or height as configured (comfy.width / comfy.height): what the source is
// asked for and what the seeds are resized to.
constexpr int keyframe_dimension(int configured) {
  return round_to_multiple(configured, 8);
}

}  // namespace dw
