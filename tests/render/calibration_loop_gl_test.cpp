// Calibration through the real render loop, driven by synthesised key presses and mouse drags
// (SDL_PushEvent): C toggles it, its keys and the mouse move corners live, Esc leaves it (and
// saves) instead of quitting, kiosk mode needs the chord, and the action's requester works from
// another thread.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <thread>

#include "core/config_store.h"
#include "core/frame_ring.h"
#include "render/calibration.h"
#include "render/presenter.h"
#include "render/render_loop.h"
#include "render/window.h"

namespace dw::render {
namespace {

constexpr int kWidth = 200, kHeight = 100;

void push_key(SDL_Keycode sym, Uint16 mod = KMOD_NONE) {
  SDL_Event e{};
  e.type = SDL_KEYDOWN;
  e.key.state = SDL_PRESSED;
  e.key.keysym.sym = sym;
  e.key.keysym.mod = mod;
  ASSERT_EQ(SDL_PushEvent(&e), 1) << SDL_GetError();
}

void push_button(Uint32 type, int x, int y) {
  SDL_Event e{};
  e.type = type;
  e.button.button = SDL_BUTTON_LEFT;
  e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
  e.button.x = x;
  e.button.y = y;
  ASSERT_EQ(SDL_PushEvent(&e), 1) << SDL_GetError();
}

void push_motion(int x, int y) {
  SDL_Event e{};
  e.type = SDL_MOUSEMOTION;
  e.motion.state = SDL_BUTTON_LMASK;
  e.motion.x = x;
  e.motion.y = y;
  ASSERT_EQ(SDL_PushEvent(&e), 1) << SDL_GetError();
}

class CalibrationLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr)
      GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)";
    config_.display.width = kWidth;
    config_.display.height = kHeight;
    config_.display.headless_paced = false;
    window_.emplace(config_.display, /*headless=*/true);
    store_.emplace(config_);
    presenter_.emplace(ring_, make_host_frame_uploader());
    calibration_.emplace(std::vector<OutputConfig>{OutputConfig{}});
    calibration_->on_change = [this](const std::vector<OutputConfig>&) { ++changes_; };
    calibration_->on_save = [this](const std::vector<OutputConfig>& o) { saved_ = o; };
    loop_.emplace(*window_, *presenter_, nullptr, *store_, ring_.capacity(),
                  [this] { return ring_.size(); });
    loop_->set_calibration(&*calibration_);
    SDL_FlushEvents(SDL_FIRSTEVENT, SDL_LASTEVENT);
  }

  std::uint64_t run(long long frames = 3) {
    RenderLoopOptions options;
    options.frames = frames;
    options.startup_timeout_s = 0;
    options.capture_last = true;
    std::atomic<bool> quit{false};
    return loop_->run(options, quit, {});
  }

  const OutputConfig& output() const { return calibration_->editor().output(0); }

  Config config_;
  FrameRing<Frame> ring_{8};
  std::optional<Window> window_;
  std::optional<ConfigStore> store_;
  std::optional<Presenter> presenter_;
  std::optional<Calibration> calibration_;
  std::optional<RenderLoop> loop_;
  int changes_ = 0;
  std::optional<std::vector<OutputConfig>> saved_;
};

TEST_F(CalibrationLoop, CTogglesItAndItsPatternReplacesThePicture) {
  push_key(SDLK_c);
  run();
  ASSERT_TRUE(calibration_->active());
  // The grid's red edge is on screen: the pattern was drawn, not the (black, empty) picture.
  const Image& shot = *loop_->last_image();
  const std::uint8_t* edge = shot.rgba.data() + (50 * kWidth + 1) * 4;
  EXPECT_EQ(edge[0], 255);
  EXPECT_EQ(edge[1], 0);
  push_key(SDLK_p);
  run();
  EXPECT_EQ(calibration_->pattern(), Pattern::Crosshair);
}

TEST_F(CalibrationLoop, ArrowsNudgeTheSelectedCornerShiftFinely) {
  push_key(SDLK_c);
  push_key(SDLK_1);
  push_key(SDLK_RIGHT);
  push_key(SDLK_DOWN, KMOD_LSHIFT);
  run();
  EXPECT_NEAR(output().corners[0].x, 4.0 / kWidth, 1e-9);
  EXPECT_NEAR(output().corners[0].y, 0.25 / kHeight, 1e-9);
  EXPECT_EQ(changes_, 2) << "each move is handed on live";
}

TEST_F(CalibrationLoop, TheMouseDragsTheNearestCornerLive) {
  push_key(SDLK_c);
  run();
  // Pressed 5 and 3 pixels from the bottom-right corner, dragged 20 left and 10 up.
  push_button(SDL_MOUSEBUTTONDOWN, kWidth - 5, kHeight - 3);
  push_motion(kWidth - 15, kHeight - 8);
  push_motion(kWidth - 25, kHeight - 13);
  push_button(SDL_MOUSEBUTTONUP, kWidth - 25, kHeight - 13);
  run();
  EXPECT_EQ(calibration_->editor().selected_point(), 2);
  EXPECT_NEAR(output().corners[2].x, 1.0 - 20.0 / kWidth, 1e-9);
  EXPECT_NEAR(output().corners[2].y, 1.0 - 10.0 / kHeight, 1e-9);
  EXPECT_EQ(changes_, 2) << "the warp follows every motion, not only the release";
  push_motion(10, 10);  // the button is up: no more drag
  run();
  EXPECT_NEAR(output().corners[2].x, 1.0 - 20.0 / kWidth, 1e-9);
}

TEST_F(CalibrationLoop, EscLeavesCalibrationAndSavesInsteadOfQuitting) {
  push_key(SDLK_c);
  push_key(SDLK_RIGHT);
  push_key(SDLK_ESCAPE);
  EXPECT_EQ(run(5), 5u) << "Esc while calibrating does not quit";
  EXPECT_FALSE(calibration_->active());
  ASSERT_TRUE(saved_.has_value());
  EXPECT_EQ((*saved_)[0].corners, output().corners);
}

TEST_F(CalibrationLoop, KioskModeNeedsTheChord) {
  Config c = *store_->get();
  c.kiosk.enabled = true;
  store_->publish(c);
  push_key(SDLK_c);
  run();
  EXPECT_FALSE(calibration_->active()) << "plain C does nothing in kiosk mode";
  push_key(SDLK_c, KMOD_LCTRL | KMOD_LALT);
  run();
  EXPECT_TRUE(calibration_->active());
  EXPECT_EQ(SDL_ShowCursor(SDL_QUERY), SDL_ENABLE) << "calibration drags with the mouse";
  push_key(SDLK_c, KMOD_LCTRL | KMOD_LALT);
  run();
  EXPECT_FALSE(calibration_->active());
  EXPECT_EQ(SDL_ShowCursor(SDL_QUERY), SDL_DISABLE);
}

TEST_F(CalibrationLoop, TheActionsRequesterWorksFromAnotherThread) {
  const auto request = calibration_->toggle_requester();
  std::thread([&request] { request(); }).join();
  run();
  EXPECT_TRUE(calibration_->active());
}

}  // namespace
}  // namespace dw::render
