// Outputs in windows of their own, each drawn on a thread of its own (render/output_thread.h)
// under Xvfb: each window shows its region of the canvas, a display held in its swap neither
// stops the loop nor the other outputs, it then shows the newest canvas (the ones it had no
// refresh for skipped, none half drawn over), and calibration's marks reach a threaded window.
#include <SDL.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <future>
#include <optional>

#include "core/frame_ring.h"
#include "image_compare.h"
#include "render/outputs.h"
#include "render/presenter.h"
#include "render/window.h"
#include "support/test_support.h"

namespace dw::render {
namespace {

constexpr int kOutW = 96, kOutH = 72;

class OutputThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("DISPLAY") == nullptr)
      GTEST_SKIP() << "no X display: run under xvfb-run (scripts/test.sh does)";
    config_.display.dither = false;
    config_.display.idle_motion = 0;
    config_.display.vsync = false;  // Xvfb has no vblank; the hold below plays a far one
    config_.playback.min_buffer_s = 0;
    config_.display.content_fps = 60;
    config_.outputs.canvas_width = 2 * kOutW;
    config_.outputs.canvas_height = kOutH;
    OutputConfig left, right;
    left.width = right.width = kOutW;
    left.height = right.height = kOutH;
    left.region = {0, 0, 0.5, 1};
    right.region = {0.5, 0, 0.5, 1};
    config_.outputs.outputs = {left, right};
    window_.emplace(main_window_config(config_), /*headless=*/false);
    presenter_.emplace(ring_, make_host_frame_uploader());
    outputs_.emplace(*window_, config_, /*headless=*/false);
  }

  void TearDown() override {
    if (hold_) hold_->release.set_value();
    outputs_.reset();  // its threads end before the hold they may still be calling goes
    hold_.reset();
    presenter_.reset();
    window_.reset();
  }

  // One content frame: left half one colour, right half another, both changing with `k`.
  void push(int k) {
    Frame* f = ring_.begin_write();
    if (f == nullptr) return;  // full: the presenter takes one per frame
    f->resize_host(2 * kOutW, kOutH);
    for (int y = 0; y < kOutH; ++y)
      for (int x = 0; x < 2 * kOutW; ++x) {
        std::uint8_t* p = &f->host_rgba[(static_cast<std::size_t>(y) * 2 * kOutW + x) * 4];
        const bool right = x >= kOutW;
        p[0] = static_cast<std::uint8_t>(right ? 200 - 3 * (k % 50) : 30 + 3 * (k % 50));
        p[1] = static_cast<std::uint8_t>(right ? 40 + x % 64 : 180 - y);
        p[2] = static_cast<std::uint8_t>(right ? 90 : 20 + y);
        p[3] = 255;
      }
    f->info.sequence = static_cast<std::uint64_t>(k);
    ring_.commit_write();
  }

  // One display frame of the main loop: events, the presenter, every output, output 1's swap.
  void frame(int k) {
    SDL_PumpEvents();
    push(k);
    presenter_->update(1.0 / 60, config_);
    outputs_->draw(*presenter_, config_, 1.0);
    window_->swap();
  }

  // Holds output 2's thread in its next swap, once (a display whose vblank is far away), until
  // release(); a 30 s deadline keeps a broken build from hanging the suite. Returns whether the
  // thread got there within 20 s.
  bool hold_output_two() {
    hold_.emplace();
    outputs_->thread(1)->set_before_swap([this] {
      if (hold_->entered_once.exchange(true)) return;
      hold_->entered.set_value();
      if (hold_->released.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
        hold_->released_by_deadline = true;
    });
    frame(1000);
    return hold_->entered.get_future().wait_for(std::chrono::seconds(20)) ==
           std::future_status::ready;
  }
  void release() {
    hold_->release.set_value();
    hold_->release = std::promise<void>();  // TearDown's set_value then finds no one waiting
  }

  struct Hold {
    std::promise<void> entered, release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> entered_once{false}, released_by_deadline{false};
  };
  std::optional<Hold> hold_;
  Config config_;
  FrameRing<Frame> ring_{4};
  std::optional<Window> window_;
  std::optional<Presenter> presenter_;
  std::optional<Outputs> outputs_;
};

TEST_F(OutputThreads, EachWindowShowsItsRegionOutputTwoFromItsOwnThread) {
  ASSERT_EQ(outputs_->thread(0), nullptr) << "output 1 is the main loop's";
  ASSERT_NE(outputs_->thread(1), nullptr) << "output 2's window has a thread";
  for (int k = 0; k < 20; ++k) frame(k);
  const std::vector<Image> shots = outputs_->capture();
  const Image canvas = outputs_->capture_canvas();
  ASSERT_EQ(shots.size(), 2u);
  ASSERT_EQ(canvas.width, 2 * kOutW);
  EXPECT_GE(psnr(shots[0], crop_columns(canvas, 0, kOutW)), 40.0);
  EXPECT_GE(psnr(shots[1], crop_columns(canvas, kOutW, kOutW)), 40.0);
  EXPECT_LT(psnr(shots[1], crop_columns(canvas, 0, kOutW)), 30.0) << "output 2 shows its own half";
  EXPECT_GT(outputs_->stats()[1].presented, 0u);
}

// A display whose refresh is far away (its thread held in the swap) holds nothing else: the main
// loop draws on and output 1 follows; released, the output shows the newest canvas, with the
// canvases it had no refresh for counted as skipped.
TEST_F(OutputThreads, AHeldDisplayHoldsNeitherTheLoopNorTheOthers) {
  for (int k = 0; k < 5; ++k) frame(k);
  ASSERT_TRUE(hold_output_two()) << "output 2's thread never drew";
  const std::uint64_t presented_before = outputs_->stats()[1].presented;
  const std::uint64_t main_before = outputs_->stats()[0].presented;
  for (int k = 6; k < 46; ++k) frame(k);  // 40 frames while output 2 is held
  EXPECT_FALSE(hold_->released_by_deadline) << "the loop waited for the held display";
  EXPECT_EQ(outputs_->stats()[0].presented, main_before + 40) << "output 1 followed the loop";
  EXPECT_EQ(outputs_->stats()[1].presented, presented_before) << "output 2 is still held";
  release();
  const Image canvas = outputs_->capture_canvas();
  const std::vector<Image> shots = outputs_->capture();
  EXPECT_GE(psnr(shots[0], crop_columns(canvas, 0, kOutW)), 40.0);
  EXPECT_GE(psnr(shots[1], crop_columns(canvas, kOutW, kOutW)), 40.0)
      << "released, output 2 shows the newest canvas";
  const OutputThreadStats s = outputs_->stats()[1];
  EXPECT_GE(s.skipped, 30u) << "the canvases it had no refresh for are skipped, not queued";
  EXPECT_LE(s.presented, presented_before + 3);
}

// Calibration's marks are plain data: a threaded window paints them with its own context's
// objects (a vertex array made in the main context does not exist in another).
TEST_F(OutputThreads, CalibrationMarksReachAThreadedWindow) {
  outputs_->output_marks = [](std::size_t k, int, int) {
    CalibrationMarks m;
    if (k != 1) return m;
    m.points = true;
    m.vertices = {0.1f, 0.1f, 1.0f, 0.9f, 0.1f, 0.0f, 0.9f, 0.9f, 0.0f, 0.1f, 0.9f, 0.0f};
    return m;
  };
  for (int k = 0; k < 5; ++k) frame(k);
  const std::vector<Image> shots = outputs_->capture();
  const std::uint8_t* handle =
      shots[1].pixel(static_cast<int>(0.1 * kOutW), static_cast<int>(0.1 * kOutH));
  EXPECT_EQ(handle[0], 255);
  EXPECT_NEAR(handle[1], 140, 2);
  EXPECT_EQ(handle[2], 0);
  const std::uint8_t* none =
      shots[0].pixel(static_cast<int>(0.1 * kOutW), static_cast<int>(0.1 * kOutH));
  EXPECT_NE(none[1], 140) << "output 1 has no marks";
}

}  // namespace
}  // namespace dw::render

namespace dw::render {
namespace {

// The rate each output reports (status.json, /metrics, the overlay): output 2 shows every canvas
// it is given here (no vsync under Xvfb), so its rate follows the loop's; held, it drops to 0.
TEST_F(OutputThreads, EachOutputReportsItsOwnRate) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  int k = 0;
  while (clock::now() - start < std::chrono::milliseconds(1500)) frame(k++);
  const double loop_fps = k / std::chrono::duration<double>(clock::now() - start).count();
  const std::vector<OutputThreadStats> s = outputs_->stats();
  EXPECT_FALSE(s[0].own_thread);
  EXPECT_TRUE(s[1].own_thread);
  EXPECT_GT(s[1].fps, 0.5 * loop_fps) << "loop " << loop_fps << " fps";
  // The output's rate is of its last whole second, the loop's of the whole run: a slower last
  // third on a loaded machine lowers the loop's alone.
  EXPECT_LT(s[1].fps, 1.5 * loop_fps) << "loop " << loop_fps << " fps";
  ASSERT_TRUE(hold_output_two());
  EXPECT_TRUE(
      dw::test::wait_until([&] { return outputs_->stats()[1].fps == 0; }, std::chrono::seconds(5)))
      << "a display stalled for over a second reports 0 fps";
}

// A screenshot while a display is held: that output's picture is black after the deadline, the
// others are as drawn, and once released the output captures normally.
TEST_F(OutputThreads, ACaptureOfAHeldDisplayGivesUpAndLaterOnesWork) {
  for (int k = 0; k < 5; ++k) frame(k);
  ASSERT_TRUE(hold_output_two());
  const std::vector<Image> held = outputs_->capture();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[1].width, kOutW);
  EXPECT_EQ(held[1].pixel(kOutW / 2, kOutH / 2)[0], 0) << "black, not a stale or torn picture";
  release();
  frame(6);
  const Image canvas = outputs_->capture_canvas();
  const std::vector<Image> shots = outputs_->capture();
  EXPECT_GE(psnr(shots[1], crop_columns(canvas, kOutW, kOutW)), 40.0);
}

}  // namespace
}  // namespace dw::render
