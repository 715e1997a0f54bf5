// The presenter: takes content frames from the ring (never waiting), keeps the two around "now"
// (and the one before, for idle motion) in textures, and draws their blend with the fit mode,
// brightness, gamma and dithering. The picture never stands still: before playback starts and
// whenever the ring runs dry it keeps a slow motion of its own on the last frames (IdleMotion:
// zoom, drift, ping-pong toward the previous frame), eased in and handed back without a jump.
// Main thread only.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "core/config.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "render/content_clock.h"
#include "render/frame_uploader.h"
#include "render/gl.h"
#include "render/idle_motion.h"
#include "render/shader.h"

namespace dw::render {

// Half-size of the image quad in normalised device coordinates for a fit mode: (1, 1) fills the
// viewport; contain keeps both <= 1 (letterbox), cover keeps both >= 1 (crop).
struct QuadScale {
  float x = 1, y = 1;
};
QuadScale fit_scale(FitMode fit, int image_w, int image_h, int view_w, int view_h);

struct PresenterStats {
  std::uint64_t content_frames_shown = 0;  // frames that became the current frame
  std::uint64_t content_uploads = 0;       // frames uploaded into a texture (once per frame)
  std::uint64_t current_sequence = 0;
  std::uint64_t current_keyframe = 0;
  bool has_frame = false;
  bool playing = false;
  double blend = 0;
  double rate_factor = 1;
  double supply_fps = 0;          // content frames per second the producer delivers (0: not known)
  bool idle = false;              // nothing to play: the presenter's own motion is on
  double idle_envelope = 0;       // 0..1, how much of the idle motion is on screen
  std::uint64_t idle_spells = 0;  // times the presenter went idle after playback had started
  bool still = false;  // playing a still pair (FrameInfo::still): the idle motion is on too
  std::size_t target_frames = 0;  // the buffer target in frames (capped to what the ring holds)
};

// What the caller adds to a draw beyond the config: the schedule's light (multiplied into the
// brightness) and whether to dither (off when drawing the canvas that outputs then dither).
struct DrawTweaks {
  double light = 1.0;
  bool dither = true;
};

class Presenter {
 public:
  Presenter(FrameRing<Frame>& ring, std::unique_ptr<FrameUploader> uploader);
  ~Presenter();
  Presenter(const Presenter&) = delete;
  Presenter& operator=(const Presenter&) = delete;

  // The most one update advances the content clock and the idle motion: a longer turn (a stall)
  // is not made up for.
  static constexpr double kMaxStepSeconds = 0.25;

  // Advances the content clock by one display frame of `dt` seconds (at most kMaxStepSeconds)
  // and takes frames as needed.
  void update(double dt, const Config& config);
  // Draws into the bound framebuffer, whose size is view_w x view_h.
  void draw(int view_w, int view_h, const Config& config, const DrawTweaks& tweaks = {});
  const PresenterStats& stats() const { return stats_; }
  // The size of the current content frame (0 x 0 before the first).
  int frame_width() const { return slots_[current_].width; }
  int frame_height() const { return slots_[current_].height; }
  const IdleView& idle_view() const { return idle_.view(); }

 private:
  struct Slot {
    GLuint texture = 0;
    int width = 0, height = 0;
    bool valid = false;
    FrameInfo info;
  };
  bool take_into(Slot& slot);  // uploads the ring's oldest frame into `slot` and pops it
  int free_slot() const;       // a slot that is neither current, next nor previous
  void step_forward();         // next becomes current; the old current becomes previous

  FrameRing<Frame>& ring_;
  std::unique_ptr<FrameUploader> uploader_;
  ShaderProgram program_;
  GLuint vertex_array_ = 0;
  // Four slots: frame k (current), k+1 (next), k-1 (previous, the ping-pong partner, kept while
  // idle motion is on screen) and one to upload into.
  std::array<Slot, 4> slots_;
  int current_ = 0, next_ = 1, previous_ = 2;
  ContentClock clock_;
  SupplyMeter supply_;
  IdleMotion idle_;
  std::size_t last_ring_size_ = 0;
  PresenterStats stats_;
};

}  // namespace dw::render
