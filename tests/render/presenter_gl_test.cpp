// The presenter and overlay against a real OpenGL context (Mesa's llvmpipe under Xvfb).
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "core/error.h"
#include "gl_stage.h"
#include "render/offscreen.h"
#include "render/overlay.h"

namespace dw::render {
namespace {

constexpr int kSize = 64;

class PresenterGl : public GlStage {
 protected:
  void SetUp() override {
    config_.display.width = kSize;
    config_.display.height = kSize;
    config_.display.fit = FitMode::Stretch;
    config_.display.dither = false;
    config_.playback.min_buffer_s = 0;
    config_.playback.min_rate = 1.0;  // a constant content rate: the blend maths alone is tested
    config_.playback.max_rate = 1.0;
    open_stage();
    if (IsSkipped()) return;
    target_.emplace(kSize, kSize);
    target_->bind();
  }

  void push_solid(std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint64_t sequence) {
    render::push_solid(ring_, kSize, r, g, b, sequence);
  }
  void push_pattern(int phase, std::uint64_t sequence, bool still = false) {
    render::push_pattern(ring_, kSize, phase, sequence, still);
  }

  Image shot(double dt) {
    presenter_->update(dt, config_);
    presenter_->draw(kSize, kSize, config_);
    return read_framebuffer(kSize, kSize);
  }

  // Draws one display frame of dt seconds and returns the centre pixel.
  std::array<int, 3> frame(double dt) {
    presenter_->update(dt, config_);
    presenter_->draw(kSize, kSize, config_);
    const Image img = read_framebuffer(kSize, kSize);
    const std::uint8_t* p = img.pixel(kSize / 2, kSize / 2);
    return {p[0], p[1], p[2]};
  }

  std::optional<Offscreen> target_;
};

TEST_F(PresenterGl, BlendsBetweenTwoContentFramesAtDisplayRate) {
  push_solid(0, 0, 0, 1);
  push_solid(200, 100, 50, 2);
  config_.display.content_fps = 10;
  frame(0);  // takes both frames, starts playing
  // A quarter of a content interval later the blend is a quarter of the way.
  const auto c = frame(0.025);
  EXPECT_NEAR(c[0], 50, 2);
  EXPECT_NEAR(c[1], 25, 2);
  EXPECT_NEAR(c[2], 12.5, 2);
  EXPECT_NEAR(presenter_->stats().blend, 0.25, 1e-6);
}

// A display frame that took 30 s (a swap that blocked while a projector re-trained) is not made
// up for: the clock would owe 300 frames at 10 fps, uploaded in one turn with only the last shown,
// and the picture would jump ahead through the whole buffer.
TEST_F(PresenterGl, AStallIsNotMadeUpForByJumpingThroughTheBuffer) {
  config_.display.content_fps = 10;
  for (std::uint64_t s = 1; s <= ring_.capacity(); ++s) push_pattern(static_cast<int>(s), s);
  frame(0);
  const std::size_t buffered = ring_.size();
  ASSERT_GE(buffered, 5u);
  const std::uint64_t before = presenter_->stats().content_frames_shown;
  frame(30.0);
  const std::uint64_t after = presenter_->stats().content_frames_shown;
  EXPECT_LE(after - before, 3u) << "at most " << Presenter::kMaxStepSeconds << " s of content";
  EXPECT_GE(ring_.size(), buffered - 3) << "the buffer is still there";
  frame(0.1);
  EXPECT_EQ(presenter_->stats().content_frames_shown, after + 1) << "and plays on at its rate";
}

// A texture the driver cannot allocate (out of memory on a GPU shared with ComfyUI; here a size
// over GL_MAX_TEXTURE_SIZE stands in) is an error in every build, not a texture with no storage
// that samples black for the rest of the run: the turn fails, and the frame waits for the next.
TEST_F(PresenterGl, ATextureTheDriverCannotAllocateIsAnErrorNotABlackFrame) {
  GLint max_size = 0;
  glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_size);
  ASSERT_GT(max_size, 0);
  Frame* f = ring_.begin_write();
  ASSERT_NE(f, nullptr);
  f->resize_host(max_size + 1, 1);
  f->info.sequence = 1;
  ring_.commit_write();
  EXPECT_THROW(presenter_->update(1.0 / 60, config_), Error);
  EXPECT_FALSE(presenter_->stats().has_frame) << "no frame without storage is shown";
  EXPECT_EQ(ring_.size(), 1u) << "the frame waits for the next turn";
}

TEST_F(PresenterGl, AnEmptyRingKeepsTheLastFrameNeverBlack) {
  push_solid(30, 160, 220, 1);
  push_solid(30, 160, 220, 2);
  frame(0);
  for (int i = 0; i < 120; ++i) {
    const auto c = frame(1.0 / 60);  // the ring runs dry: nothing new arrives
    ASSERT_NEAR(c[0], 30, 1) << "display frame " << i;
    ASSERT_NEAR(c[1], 160, 1);
    ASSERT_NEAR(c[2], 220, 1);
  }
  EXPECT_EQ(ring_.size(), 0u);
}

double mean_abs_diff(const Image& a, const Image& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.rgba.size(); i += 4)
    for (int c = 0; c < 3; ++c) sum += std::abs(int(a.rgba[i + c]) - int(b.rgba[i + c]));
  return sum / (a.rgba.size() / 4 * 3);
}

double mean_level(const Image& a) {
  double sum = 0;
  for (std::size_t i = 0; i < a.rgba.size(); i += 4)
    sum += a.rgba[i] + a.rgba[i + 1] + a.rgba[i + 2];
  return sum / (a.rgba.size() / 4 * 3);
}

TEST_F(PresenterGl, AnEmptyRingStillMovesAndNeverGoesBlack) {
  push_pattern(0, 1);
  push_pattern(5, 2);
  config_.display.content_fps = 12;
  shot(0);
  // The ring runs dry at once; every half second of idle time the picture has changed.
  Image previous = shot(1.0 / 60);
  for (int i = 0; i < 40; ++i) {
    Image now;
    for (int f = 0; f < 30; ++f) now = shot(1.0 / 60);
    EXPECT_GT(mean_level(now), 20) << "black at " << i * 0.5 << " s";
    EXPECT_GT(mean_abs_diff(now, previous), 0.05) << "stood still at " << i * 0.5 << " s";
    previous = std::move(now);
  }
  EXPECT_TRUE(presenter_->stats().idle);
  EXPECT_GT(presenter_->stats().idle_envelope, 0.9);
}

TEST_F(PresenterGl, MovesBeforePlaybackStartsOnTheFirstFrame) {
  config_.playback.min_buffer_s = 10;  // far from reached: one frame only
  push_pattern(0, 1);
  const Image first = shot(0);
  Image later;
  for (int f = 0; f < 60; ++f) later = shot(1.0 / 60);
  EXPECT_FALSE(presenter_->stats().playing);
  EXPECT_GT(mean_abs_diff(later, first), 0.05) << "the first keyframe stands still";
}

// A pair whose two keyframes are the same picture (a server answering the same graph twice) plays
// frames that do not change. Marked still, they move like an idle picture while they play; not
// marked, the same frames stand still (what the mark is for).
TEST_F(PresenterGl, AStillPairMovesWhileItPlays) {
  config_.display.content_fps = 12;
  for (const bool still : {true, false}) {
    SCOPED_TRACE(still ? "marked still" : "not marked");
    while (ring_.size() > 0) ring_.pop();
    presenter_.emplace(ring_, make_host_frame_uploader());
    std::uint64_t sequence = 0;
    // The ring is kept topped up, as a producer keeping up does: content plays all along.
    auto played = [&](double dt) {
      while (ring_.size() + 1 < ring_.capacity()) push_pattern(0, ++sequence, still);
      return shot(dt);
    };
    played(0);
    Image previous = played(1.0 / 60);
    double least = 1e9;
    for (int i = 0; i < 4; ++i) {  // two seconds
      Image now;
      for (int f = 0; f < 30; ++f) now = played(1.0 / 60);
      least = std::min(least, mean_abs_diff(now, previous));
      previous = std::move(now);
    }
    EXPECT_GT(sequence, 24u);  // frames were taken: it played
    EXPECT_TRUE(presenter_->stats().playing);
    EXPECT_FALSE(presenter_->stats().idle);  // content plays: this is no dry ring
    EXPECT_EQ(presenter_->stats().still, still);
    if (still)
      EXPECT_GT(least, 0.05) << "a still pair stood still";
    else
      EXPECT_EQ(least, 0.0);
  }
}

TEST_F(PresenterGl, HandsBackToNewContentWithoutAJump) {
  push_pattern(0, 1);
  push_pattern(0, 2);
  config_.display.content_fps = 12;
  config_.playback.min_rate = 0.01;  // the new frames last long enough to watch the hand-back
  config_.playback.max_rate = 0.01;
  shot(0);
  for (int f = 0; f < 60 * 12; ++f) shot(1.0 / 60);  // 12 s idle: zoomed and drifted
  const Image idle = shot(1.0 / 60);
  // The same content arrives again: only the idle motion's return differs between frames.
  for (std::uint64_t s = 3; s < 8; ++s) push_pattern(0, s);
  Image before = idle;
  double worst = 0;
  for (int f = 0; f < 60 * 8; ++f) {
    Image now = shot(1.0 / 60);
    worst = std::max(worst, mean_abs_diff(now, before));
    before = std::move(now);
  }
  const Image plain = before;  // handed back: the frame as it is
  EXPECT_LT(presenter_->stats().idle_envelope, 0.01);
  const double snap = mean_abs_diff(idle, plain);
  EXPECT_GT(snap, 3.0) << "the idle view was not displaced (the test would prove nothing)";
  EXPECT_LT(worst, snap / 8) << "hand-back jumped: worst step " << worst << " of " << snap;
}

TEST_F(PresenterGl, GammaAndBrightnessShapeTheOutput) {
  push_solid(128, 64, 32, 1);
  frame(0);
  const auto plain = frame(0);
  EXPECT_NEAR(plain[0], 128, 1);
  config_.display.brightness = 1.5;
  const auto brighter = frame(0);
  EXPECT_NEAR(brighter[0], 192, 2);
  EXPECT_NEAR(brighter[1], 96, 2);
  config_.display.brightness = 1.0;
  config_.display.gamma = 2.2;
  const auto lifted = frame(0);
  EXPECT_NEAR(lifted[0], 255 * std::pow(128 / 255.0, 1 / 2.2), 2);
  EXPECT_NEAR(lifted[2], 255 * std::pow(32 / 255.0, 1 / 2.2), 2);
}

TEST_F(PresenterGl, ContainLetterboxesInBlack) {
  // A 2:1 frame in a square view: rows near the top stay black, the middle shows the frame.
  Frame* f = ring_.begin_write();
  f->resize_host(kSize * 2, kSize);
  std::fill(f->host_rgba.begin(), f->host_rgba.end(), 255);
  ring_.commit_write();
  config_.display.fit = FitMode::Contain;
  presenter_->update(0, config_);
  presenter_->draw(kSize, kSize, config_);
  const Image img = read_framebuffer(kSize, kSize);
  EXPECT_EQ(img.pixel(kSize / 2, 2)[0], 0);
  EXPECT_EQ(img.pixel(kSize / 2, kSize / 2)[0], 255);
}

TEST_F(PresenterGl, OverlayTogglesAndDrawsWithoutGlErrors) {
  ConfigStore store(config_);
  Overlay overlay(window_->sdl(), window_->gl_context(), store, /*visible=*/false);
  SDL_Event key{};
  key.type = SDL_KEYDOWN;
  key.key.keysym.sym = SDLK_F1;
  EXPECT_FALSE(overlay.handle_event(key)) << "the app sees F1 and toggles the overlay";
  overlay.toggle();
  EXPECT_TRUE(overlay.visible());
  OverlayModel model;
  model.frame_times = {16.6f, 16.7f, 16.8f};
  model.status = {
      {"uptime_s", "3 s"}, {"generation.keyframes", "3"}, {"workers[cache].state", "failed"}};
  overlay.draw(model);  // draws without a GL error (DW_GL_CHECK would throw)
  overlay.toggle();
  EXPECT_FALSE(overlay.visible());
}

}  // namespace
}  // namespace dw::render
