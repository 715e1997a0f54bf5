// The presenter's content clock, free of GL so it can be tested: content frames arrive at their
// own rate and the display refreshes at its own; the clock says how far "now" is between content
// frame k and k+1. Playback starts once the minimum buffer is there; afterwards the content rate
// eases (never jumps) between playback.min_rate and playback.max_rate times display.content_fps to
// keep the buffer near its target instead of stalling or flooding. When the producer delivers
// less than that (a slow VAE, a slow server), the clock follows what is produced: it eases down to
// the supply rate (as low as kMinSupplyRate) so the stream slows smoothly instead of stalling.
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
  double supply_fps = 0;  // content frames produced per second (0: not known yet)
  bool has_next = false;  // frame k+1 is there to blend toward
};

// Measures how many content frames per second the producer delivers, from arrivals seen by the
// presenter. Frames come in bursts (a pair at a time), so it averages over windows of at least
// kMinWindow seconds that end at an arrival, and decays toward 0 when nothing comes for kMaxWindow.
// Frames after such a dry spell start a new measurement (unknown until its first window closes):
// a producer that was stopped (paused, closed for the night) is not a slow one, and the dry spell
// must not hold playback to a crawl once frames come again.
class SupplyMeter {
 public:
  static constexpr double kMinWindow = 4.0;
  static constexpr double kMaxWindow = 60.0;
  void add(double dt, std::size_t arrived);
  double fps() const { return fps_; }
  bool known() const { return known_; }

 private:
  double window_s_ = 0;
  std::size_t window_frames_ = 0;
  double fps_ = 0;
  bool known_ = false;
  bool seen_first_ = false;
  bool stopped_ = false;  // a whole window passed without a frame
};

class ContentClock {
 public:
  static constexpr double kEaseSeconds = 2.0;     // time constant of rate changes
  static constexpr double kMinSupplyRate = 0.02;  // slowest content rate when supply is short

  // Advances by one display frame; returns how many content frames to step forward (the caller
  // then makes frame k+1 the current frame that many times).
  int advance(const ClockInputs& in);
  // Position between the current frame and the next, in [0, 1).
  double blend() const { return position_; }
  bool playing() const { return playing_; }
  double rate_factor() const { return rate_factor_; }
  // The rate factor the clock eases toward at this buffer fill (exposed for tests).
  static double target_rate(double fill, double min_rate, double max_rate);
  // The same, limited by what the producer delivers: supply_ratio = supply_fps / content_fps
  // (<= 0: unknown). At half fill the stream plays at the supply rate; emptier, slower (to
  // rebuild the buffer); fuller, faster.
  static double supplied_rate(double fill, double supply_ratio, double min_rate, double max_rate);

 private:
  double position_ = 0;
  double rate_factor_ = 1.0;
  bool playing_ = false;
};

// The buffer levels the presenter works with, derived so they can always be reached: a ring of
// `capacity` slots can hold no more than that, and the presenter keeps two frames in textures, so
// the target is at most three quarters of the ring and the start level at most the target.
struct BufferLevels {
  std::size_t start_frames = 0;
  std::size_t target_frames = 1;
};
BufferLevels buffer_levels(double min_buffer_s, double target_buffer_s, double content_fps,
                           std::size_t capacity);

}  // namespace dw::render
