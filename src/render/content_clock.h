// The presenter's content clock, free of GL so it can be tested: content frames arrive at their
// own rate and the display refreshes at its own; the clock says how far "now" is between content
// frame k and k+1. Playback starts once the minimum buffer is there; afterwards the content rate
// eases (never jumps) between playback.min_rate and playback.max_rate times display.content_fps to
// keep the buffer near its target instead of stalling or flooding.
#pragma once

#include <cstddef>

namespace dw::render {

struct ClockInputs {
  double dt = 0;  // seconds since the last display frame
  double content_fps = 12;
  std::size_t buffered = 0;       // content frames waiting (ring depth)
  std::size_t start_frames = 0;   // minimum buffer before playback starts
  std::size_t target_frames = 1;  // the buffer level the rate eases toward
  double min_rate = 0.6;
  double max_rate = 1.15;
  bool has_next = false;  // frame k+1 is there to blend toward
};

class ContentClock {
 public:
  static constexpr double kEaseSeconds = 2.0;  // time constant of rate changes

  // Advances by one display frame; returns how many content frames to step forward (the caller
  // then makes frame k+1 the current frame that many times).
  int advance(const ClockInputs& in);
  // Position between the current frame and the next, in [0, 1).
  double blend() const { return position_; }
  bool playing() const { return playing_; }
  double rate_factor() const { return rate_factor_; }
  // The rate factor the clock eases toward at this buffer fill (exposed for tests).
  static double target_rate(double fill, double min_rate, double max_rate);

 private:
  double position_ = 0;
  double rate_factor_ = 1.0;
  bool playing_ = false;
};

}  // namespace dw::render
