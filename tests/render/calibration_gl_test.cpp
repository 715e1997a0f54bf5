// Calibration's patterns drawn for real (Mesa's llvmpipe under Xvfb): grid lines where the grid
// puts them, through a corner-pin too; colour bars of exact colours; ramps; the output's number in
// seven segments; the handles on the corners. No GL errors along the way.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "render/calibration.h"
#include "render/offscreen.h"
#include "render/warp.h"
#include "render/window.h"

namespace dw::render {
namespace {

// 16:9, so the grid has 16 x 9 square cells of 20 pixels.
constexpr int kWidth = 320, kHeight = 180;
constexpr std::array<double, 9> kIdentity = {1, 0, 0, 0, 1, 0, 0, 0, 1};

struct Rgb {
  int r, g, b;
};

class CalibrationGl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr)
      GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)";
    DisplayConfig display;
    display.width = kWidth;
    display.height = kHeight;
    window_.emplace(display, /*headless=*/true);
    target_.emplace(kWidth, kHeight);
  }

  Image draw(Calibration& c, Pattern pattern, int number = 1) {
    target_->bind();
    c.set_pattern(pattern);
    PatternView view;
    view.width = kWidth;
    view.height = kHeight;
    view.number = number;
    c.draw_pattern(view, kIdentity);
    EXPECT_EQ(glGetError(), static_cast<GLenum>(GL_NO_ERROR));
    return read_framebuffer(kWidth, kHeight);
  }

  static Rgb at(const Image& image, int x, int y) {
    const std::uint8_t* p = image.rgba.data() + (static_cast<std::size_t>(y) * image.width + x) * 4;
    return {p[0], p[1], p[2]};
  }

  std::optional<Window> window_;
  std::optional<Offscreen> target_;
};

bool white(Rgb c) {
  return c.r >= 250 && c.g >= 250 && c.b >= 250;
}
bool black(Rgb c) {
  return c.r <= 5 && c.g <= 5 && c.b <= 5;
}

TEST_F(CalibrationGl, GridLinesFallEveryCellAndTheEdgeIsMarked) {
  Calibration c({});
  const Image image = draw(c, Pattern::Grid);
  // Lines 2 pixels wide on every 20th pixel boundary (columns 19|20, 39|40 ...), none between.
  for (int k = 1; k < 16; ++k) {
    EXPECT_TRUE(white(at(image, 20 * k, 50))) << "vertical line " << k;
    EXPECT_TRUE(white(at(image, 20 * k - 1, 50))) << "vertical line " << k;
    EXPECT_TRUE(black(at(image, 20 * k + 2, 52))) << "inside cell " << k;
  }
  for (int k = 1; k < 9; ++k) EXPECT_TRUE(white(at(image, 52, 20 * k))) << "horizontal line " << k;
  // The output's edge: 4 pixels of red.
  const Rgb edge = at(image, 2, 90);
  EXPECT_EQ(edge.r, 255);
  EXPECT_EQ(edge.g, 0);
  EXPECT_TRUE(black(at(image, 12, 92)) || at(image, 12, 92).r < 120) << "no red inside";
}

TEST_F(CalibrationGl, AGridThroughACornerPinLandsWhereTheHomographyPutsIt) {
  OutputConfig pinned;
  pinned.corners = {{{0.12, 0.1}, {0.9, 0.04}, {0.84, 0.95}, {0.16, 0.86}}};
  Calibration c({pinned});
  target_->bind();
  c.draw_preview(kWidth, kHeight);
  ASSERT_EQ(glGetError(), static_cast<GLenum>(GL_NO_ERROR));
  const Image image = read_framebuffer(kWidth, kHeight);
  const Mat3 pin = square_to_quad(pinned.corners);
  // Crossings of grid lines (canvas x = i/16, y = j/9) land on white pixels after the pin.
  for (const auto& [i, j] : {std::pair{4, 3}, {8, 4}, {12, 6}, {6, 7}}) {
    const Vec2 p = project(pin, {i / 16.0, j / 9.0});
    const int x = static_cast<int>(p.x * kWidth), y = static_cast<int>(p.y * kHeight);
    EXPECT_TRUE(white(at(image, x, y))) << "crossing " << i << "," << j << " at " << x << "," << y;
  }
  // Outside the pinned quad: black.
  EXPECT_TRUE(black(at(image, 3, 170)));
  EXPECT_TRUE(black(at(image, 316, 3)));
  // The selected corner (1, top-left) has a filled orange handle.
  const Rgb handle = at(image, static_cast<int>(0.12 * kWidth), static_cast<int>(0.1 * kHeight));
  EXPECT_EQ(handle.r, 255);
  EXPECT_NEAR(handle.g, 140, 2);
  EXPECT_EQ(handle.b, 0);
}

TEST_F(CalibrationGl, ColourBarsHaveExactColours) {
  Calibration c({});
  const Image image = draw(c, Pattern::ColourBars);
  const Rgb want[8] = {{255, 255, 255}, {255, 255, 0}, {0, 255, 255}, {0, 255, 0},
                       {255, 0, 255},   {255, 0, 0},   {0, 0, 255},   {0, 0, 0}};
  for (int i = 0; i < 8; ++i) {
    const Rgb got = at(image, 20 + 40 * i, 90);
    EXPECT_EQ(got.r, want[i].r) << "bar " << i;
    EXPECT_EQ(got.g, want[i].g) << "bar " << i;
    EXPECT_EQ(got.b, want[i].b) << "bar " << i;
  }
}

TEST_F(CalibrationGl, BlendRampRisesLeftToRightOverAWhiteField) {
  Calibration c({});
  const Image image = draw(c, Pattern::BlendRamps);
  int previous = -1;
  for (int x = 0; x < kWidth; x += 8) {
    const Rgb v = at(image, x, 40);
    EXPECT_GE(v.r, previous) << "x " << x;
    EXPECT_EQ(v.r, v.g);
    previous = v.r;
  }
  EXPECT_LE(at(image, 0, 40).r, 2);
  EXPECT_GE(at(image, kWidth - 1, 40).r, 253);
  EXPECT_TRUE(white(at(image, 100, 150)));
}

TEST_F(CalibrationGl, TheOutputsNumberIsDrawnInSevenSegments) {
  Calibration c({});
  // The digit is 90 pixels tall (half the output), centred: its cell spans x 137.5..182.5.
  // Segment e (lower left) is lit for 8 and 2, not for 1; segment c (lower right) for 8 and 1.
  const auto lit = [](Rgb v) { return v.r > 200 && v.b < 100; };
  const Image one = draw(c, Pattern::Numbers, 1);
  const Image two = draw(c, Pattern::Numbers, 2);
  const Image eight = draw(c, Pattern::Numbers, 8);
  EXPECT_FALSE(lit(at(one, 138, 112)));
  EXPECT_TRUE(lit(at(one, 182, 112)));
  EXPECT_TRUE(lit(at(two, 138, 112)));
  EXPECT_FALSE(lit(at(two, 182, 112)));
  EXPECT_TRUE(lit(at(eight, 138, 112)));
  EXPECT_TRUE(lit(at(eight, 182, 112)));
  // 12: two cells 1.5 cells apart, centred: the 1's segment c at x ~149, the 2's segment e at
  // x ~171, and nothing where a lone digit's segment e would be for the 1 (x ~104).
  const Image twelve = draw(c, Pattern::Numbers, 12);
  EXPECT_TRUE(lit(at(twelve, 148, 112)));
  EXPECT_TRUE(lit(at(twelve, 171, 112)));
  EXPECT_FALSE(lit(at(twelve, 104, 112)));
}

}  // namespace
}  // namespace dw::render
