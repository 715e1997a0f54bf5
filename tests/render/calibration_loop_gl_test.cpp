// Calibration through the real render loop, driven by synthesised key presses and mouse drags
// (SDL_PushEvent): C toggles it, its keys and the mouse move corners live, Esc leaves it (and
// saves) instead of quitting, kiosk mode needs the chord, and the action's requester works from
// another thread.
#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "gl_stage.h"
#include "render/calibration.h"

namespace dw::render {
namespace {

constexpr int kWidth = 200, kHeight = 100;

class CalibrationLoop : public GlStage {
 protected:
  void SetUp() override {
    config_.display.width = kWidth;
    config_.display.height = kHeight;
    config_.display.headless_paced = false;
    open_stage();
    if (IsSkipped()) return;
    calibration_.emplace(std::vector<OutputConfig>{OutputConfig{}});
    calibration_->on_change = [this](const std::vector<OutputConfig>&) { ++changes_; };
    calibration_->on_save = [this](const std::vector<OutputConfig>& o) { saved_ = o; };
    open_loop();
    loop_->set_calibration(&*calibration_);
    SDL_FlushEvents(SDL_FIRSTEVENT, SDL_LASTEVENT);
  }

  std::uint64_t run(long long frames = 3) { return run_loop(frames); }

  const OutputConfig& output() const { return calibration_->editor().output(0); }

  std::optional<Calibration> calibration_;
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
