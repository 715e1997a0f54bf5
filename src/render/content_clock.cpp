#include "render/content_clock.h"

#include <algorithm>
#include <cmath>

namespace dw::render {

double ContentClock::target_rate(double fill, double min_rate, double max_rate) {
  fill = std::clamp(fill, 0.0, 1.0);
  // Half full is healthy (rate 1); empty slows to min_rate, full speeds to max_rate.
  if (fill < 0.5) return min_rate + (1.0 - min_rate) * (fill / 0.5);
  return 1.0 + (max_rate - 1.0) * ((fill - 0.5) / 0.5);
}

int ContentClock::advance(const ClockInputs& in) {
  if (!playing_) {
    // Waiting for the minimum buffer (a full ring counts: it cannot hold more).
    if (in.buffered >= in.start_frames && in.has_next)
      playing_ = true;
    else
      return 0;
  }
  const double fill = static_cast<double>(in.buffered) /
                      static_cast<double>(std::max<std::size_t>(in.target_frames, 1));
  const double target = target_rate(fill, in.min_rate, in.max_rate);
  rate_factor_ += (target - rate_factor_) * (1.0 - std::exp(-std::max(in.dt, 0.0) / kEaseSeconds));
  if (!in.has_next) {
    // Nothing to move toward: hold the current frame fully (never black, never a jump later).
    position_ = 0;
    return 0;
  }
  position_ += std::max(in.dt, 0.0) * in.content_fps * rate_factor_;
  int steps = 0;
  while (position_ >= 1.0) {
    position_ -= 1.0;
    ++steps;
  }
  return steps;
}

}  // namespace dw::render
