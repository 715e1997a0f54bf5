// Calibration with [[output]]s (headless, under Xvfb): the pattern goes into the canvas, each
// output's region with its own number, and reaches each output through its own warp; the handles
// are drawn on the selected output only.
#include <gtest/gtest.h>

#include <optional>

#include "gl_stage.h"
#include "render/calibration.h"
#include "render/outputs.h"

namespace dw::render {
namespace {

constexpr int kOutW = 160, kOutH = 180;

struct Rgb {
  int r, g, b;
};

Rgb at(const Image& image, int x, int y) {
  const std::uint8_t* p = image.rgba.data() + (static_cast<std::size_t>(y) * image.width + x) * 4;
  return {p[0], p[1], p[2]};
}

bool lit(Rgb v) {  // the numbers' yellow
  return v.r > 200 && v.b < 100;
}

class CalibrationOutputs : public GlStage {
 protected:
  void SetUp() override {
    config_.display.width = kOutW;
    config_.display.height = kOutH;
    config_.display.headless_paced = false;
    config_.display.dither = false;
    config_.outputs.canvas_width = 2 * kOutW;
    config_.outputs.canvas_height = kOutH;
    OutputConfig left, right;
    left.width = right.width = kOutW;
    left.height = right.height = kOutH;
    left.region = {0, 0, 0.5, 1};
    right.region = {0.5, 0, 0.5, 1};
    config_.outputs.outputs = {left, right};
    open_stage();
    if (IsSkipped()) return;
    outputs_.emplace(*window_, config_, /*headless=*/true);
    calibration_.emplace(config_.outputs.outputs);
    open_loop();
    loop_->set_outputs(&*outputs_);
    loop_->set_calibration(&*calibration_);
  }

  std::vector<Image> run() {
    run_loop(2);
    return loop_->last_output_images();
  }

  std::optional<Outputs> outputs_;
  std::optional<Calibration> calibration_;
};

TEST_F(CalibrationOutputs, EachOutputShowsItsOwnNumber) {
  calibration_->set_pattern(Pattern::Numbers);
  calibration_->set_active(true);
  const std::vector<Image> shots = run();
  ASSERT_EQ(shots.size(), 2u);
  // Each digit is 90 pixels tall and centred in its output: its cell spans x 57.5..102.5.
  // Segment e (lower left) is lit in a 2, not in a 1; segment c (lower right) in a 1, not in a 2.
  EXPECT_FALSE(lit(at(shots[0], 59, 112)));
  EXPECT_TRUE(lit(at(shots[0], 101, 112)));
  EXPECT_TRUE(lit(at(shots[1], 59, 112)));
  EXPECT_FALSE(lit(at(shots[1], 101, 112)));
}

TEST_F(CalibrationOutputs, GridLinesMeetAcrossOutputsAndHandlesShowOnTheSelectedOne) {
  calibration_->set_active(true);
  const std::vector<Image> shots = run();
  ASSERT_EQ(shots.size(), 2u);
  // The canvas is 320 x 180: 16 x 9 cells of 20 pixels; output 2 starts at canvas x 160, so its
  // lines fall on the same 20-pixel steps.
  for (int x : {40, 80, 120}) {
    EXPECT_GE(at(shots[0], x, 50).r, 250) << "output 1, line at " << x;
    EXPECT_GE(at(shots[1], x, 50).r, 250) << "output 2, line at " << x;
  }
  // The selected output (1) has its top-left handle filled in orange; output 2 has none.
  const Rgb handle = at(shots[0], 3, 3);
  EXPECT_EQ(handle.r, 255);
  EXPECT_NEAR(handle.g, 140, 2);
  EXPECT_NE(at(shots[1], 3, 3).g, handle.g);
  SDL_Event tab{};
  tab.type = SDL_KEYDOWN;
  tab.key.keysym.sym = SDLK_TAB;
  SDL_PushEvent(&tab);
  const std::vector<Image> after = run();
  EXPECT_NEAR(at(after[1], 3, 3).g, 140, 2) << "Tab moves the handles to output 2";
}

TEST_F(CalibrationOutputs, TheWarpFollowsAMoveLive) {
  // As the app wires it: every move is published, and the outputs follow the live config.
  calibration_->on_change = [this](const std::vector<OutputConfig>& outputs) {
    Config next = *store_->get();
    next.outputs.outputs = outputs;
    store_->publish(std::move(next));
  };
  calibration_->set_active(true);
  const std::vector<Image> before = run();
  EXPECT_GE(at(before[0], 0, 90).g, 250) << "the grid's edge line (or the outline) is on screen";
  // Corner 1 moved 20 pixels right (5 arrow presses of 4 pixels): the output's left edge now runs
  // from (20, 0) to (0, 180), so its first column at mid-height shows nothing.
  for (SDL_Keycode k : {SDLK_1, SDLK_RIGHT, SDLK_RIGHT, SDLK_RIGHT, SDLK_RIGHT, SDLK_RIGHT}) {
    SDL_Event e{};
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = k;
    SDL_PushEvent(&e);
  }
  const std::vector<Image> after = run();
  EXPECT_NEAR(store_->get()->outputs.outputs[0].corners[0].x, 20.0 / kOutW, 1e-9);
  EXPECT_LE(at(after[0], 0, 90).g, 10) << "the warp follows at once, no restart";
  int lines = 0;  // grid lines crossing row 50, now warped: still there, not black
  for (int x = 20; x < kOutW; ++x) lines += at(after[0], x, 50).r >= 250 ? 1 : 0;
  EXPECT_GE(lines, 4) << "the rest of the grid is still there";
}

}  // namespace
}  // namespace dw::render
