// The presenter: takes content frames from the ring (never waiting), keeps the two around "now"
// in textures, and draws their blend with the fit mode, brightness, gamma and dithering. An empty
// ring keeps the last frame on screen. Main thread only.
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
  std::uint64_t current_sequence = 0;
  std::uint64_t current_keyframe = 0;
  bool has_frame = false;
  bool playing = false;
  double blend = 0;
  double rate_factor = 1;
};

class Presenter {
 public:
  Presenter(FrameRing<Frame>& ring, std::unique_ptr<FrameUploader> uploader);
  ~Presenter();
  Presenter(const Presenter&) = delete;
  Presenter& operator=(const Presenter&) = delete;

  // Advances the content clock by one display frame of `dt` seconds and takes frames as needed.
  void update(double dt, const Config& config);
  // Draws into the bound framebuffer, whose size is view_w x view_h.
  void draw(int view_w, int view_h, const Config& config);
  const PresenterStats& stats() const { return stats_; }
  // The size of the current content frame (0 x 0 before the first).
  int frame_width() const { return slots_[current_].width; }
  int frame_height() const { return slots_[current_].height; }

 private:
  struct Slot {
    GLuint texture = 0;
    int width = 0, height = 0;
    bool valid = false;
    FrameInfo info;
  };
  bool take_into(Slot& slot);  // uploads the ring's oldest frame into `slot` and pops it

  FrameRing<Frame>& ring_;
  std::unique_ptr<FrameUploader> uploader_;
  ShaderProgram program_;
  GLuint vertex_array_ = 0;
  std::array<Slot, 2> slots_;
  int current_ = 0;  // slots_[current_] is frame k, slots_[1 - current_] is frame k+1
  ContentClock clock_;
  PresenterStats stats_;
};

}  // namespace dw::render
