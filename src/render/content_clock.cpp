#include "render/content_clock.h"

#include <algorithm>
#include <cmath>

namespace dw::render {

void SupplyMeter::add(double dt, std::size_t arrived) {
  if (!seen_first_) {
    // The wait for the very first frames is start-up, not the producer's rate.
    if (arrived == 0) return;
    seen_first_ = true;
    window_frames_ = 0;
    window_s_ = 0;
    return;
  }
  if (stopped_ && arrived > 0) {
    // The first frames after a dry spell: the producer was stopped (a pause, closing hours, a
    // server away), not slow. Measured afresh from here, as at start-up; until then the clock
    // goes by the buffer alone.
    stopped_ = false;
    known_ = false;
    window_frames_ = 0;
    window_s_ = 0;
    return;
  }
  window_s_ += std::max(dt, 0.0);
  window_frames_ += arrived;
  const bool closes = (arrived > 0 && window_s_ >= kMinWindow) || window_s_ >= kMaxWindow;
  if (!closes) return;
  if (window_frames_ == 0) stopped_ = true;  // nothing for kMaxWindow
  const double sample = static_cast<double>(window_frames_) / window_s_;
  fps_ = known_ ? 0.6 * fps_ + 0.4 * sample : sample;
  known_ = true;
  window_s_ = 0;
  window_frames_ = 0;
}

double ContentClock::target_rate(double fill, double min_rate, double max_rate) {
  fill = std::clamp(fill, 0.0, 1.0);
  // Half full is healthy (rate 1); empty slows to min_rate, full speeds to max_rate.
  if (fill < 0.5) return min_rate + (1.0 - min_rate) * (fill / 0.5);
  return 1.0 + (max_rate - 1.0) * ((fill - 0.5) / 0.5);
}

double ContentClock::supplied_rate(double fill, double supply_ratio, double min_rate,
                                   double max_rate) {
  const double buffer_rate = target_rate(fill, min_rate, max_rate);
  if (supply_ratio <= 0) return buffer_rate;
  const double follow = supply_ratio * (0.5 + std::clamp(fill, 0.0, 1.0));
  return std::clamp(std::min(buffer_rate, follow), kMinSupplyRate, max_rate);
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
  const double ratio = in.supply_fps > 0 ? in.supply_fps / std::max(in.content_fps, 1e-3) : 0.0;
  const double target = supplied_rate(fill, ratio, in.min_rate, in.max_rate);
  rate_factor_ += (target - rate_factor_) * (1.0 - std::exp(-std::max(in.dt, 0.0) / kEaseSeconds));
  if (!in.has_next) {
    // Nothing to move toward: hold the current frame fully (the presenter's idle motion keeps
    // the picture moving; never black, never a jump later).
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

BufferLevels buffer_levels(double min_buffer_s, double target_buffer_s, double content_fps,
                           std::size_t capacity) {
  const double fps = std::max(content_fps, 0.1);
  const std::size_t reachable = std::max<std::size_t>(1, capacity * 3 / 4);
  BufferLevels l;
  l.target_frames = std::clamp<std::size_t>(
      static_cast<std::size_t>(std::ceil(std::max(target_buffer_s, 0.0) * fps)), 1, reachable);
  l.start_frames = std::min<std::size_t>(
      l.target_frames, static_cast<std::size_t>(std::ceil(std::max(min_buffer_s, 0.0) * fps)));
  return l;
}

}  // namespace dw::render
