#include "render/idle_motion.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace dw::render {
namespace {

// Between 0 and 1, starting half way up at its steepest, so motion shows at once (the envelope
// already makes the start smooth).
double swell(double t, double period) {
  return 0.5 + 0.5 * std::sin(2.0 * std::numbers::pi * t / period);
}

}  // namespace

const IdleView& IdleMotion::advance(double dt, bool idle) {
  dt = std::max(dt, 0.0);
  const double tau = idle ? kEaseInSeconds : kEaseOutSeconds;
  const double goal = idle ? 1.0 : 0.0;
  double e = view_.envelope + (goal - view_.envelope) * (1.0 - std::exp(-dt / tau));
  if (!idle && e < 1e-3) e = 0;  // fully handed back: the next idle spell starts at phase 0
  view_.envelope = e;
  if (e == 0) {
    phase_s_ = 0;
    view_ = IdleView{};
    return view_;
  }
  phase_s_ += dt;
  view_.zoom = 1.0 + e * kMaxZoom * swell(phase_s_, kZoomPeriod);
  // The sampled window (1/zoom of the frame) moves only within the frame: no edge is ever shown.
  const double room = 0.5 * (1.0 - 1.0 / view_.zoom);
  view_.dx = room * std::sin(2.0 * std::numbers::pi * phase_s_ / kDriftPeriodX);
  view_.dy = room * std::sin(2.0 * std::numbers::pi * phase_s_ / kDriftPeriodY);
  view_.echo = e * kMaxEcho * swell(phase_s_, kEchoPeriod);
  return view_;
}

}  // namespace dw::render
