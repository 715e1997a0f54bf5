// The presenter's own motion for when content runs dry (or has not started): a slow zoom and
// drift of the last frame and a ping-pong blend toward the frame before it. Free of GL so it can
// be tested. Everything is scaled by an envelope that eases in when the presenter goes idle and
// eases out when content is back, so neither the start nor the hand-back jumps.
#pragma once

namespace dw::render {

struct IdleView {
  double zoom = 1;        // >= 1: magnification around the centre
  double dx = 0, dy = 0;  // offset of the sampled window, in texture units, inside the frame
  double echo = 0;        // weight of the previous frame (ping-pong), 0..kMaxEcho
  double envelope = 0;    // 0: no idle motion, 1: fully idle
};

class IdleMotion {
 public:
  static constexpr double kEaseInSeconds = 1.0;   // time constant going idle
  static constexpr double kEaseOutSeconds = 1.5;  // time constant handing back to content
  static constexpr double kMaxZoom = 0.08;        // extra magnification at the height of a swell
  static constexpr double kMaxEcho = 0.6;
  static constexpr double kZoomPeriod = 23.0;    // seconds; periods are incommensurate so the
  static constexpr double kDriftPeriodX = 31.0;  // motion does not visibly repeat
  static constexpr double kDriftPeriodY = 37.0;
  static constexpr double kEchoPeriod = 9.0;

  // Advances by dt seconds; `idle` says whether the presenter has nothing to play.
  const IdleView& advance(double dt, bool idle);
  const IdleView& view() const { return view_; }

 private:
  double phase_s_ = 0;  // runs only while the envelope is above zero
  IdleView view_;
};

}  // namespace dw::render
