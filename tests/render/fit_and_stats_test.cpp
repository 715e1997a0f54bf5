#include <gtest/gtest.h>

#include "render/frame_stats.h"
#include "render/presenter.h"
#include "render/shader.h"

namespace dw::render {
namespace {

TEST(FitScale, ContainLetterboxesCoverCropsStretchFills) {
  // A 2:1 image on a 1:1 view.
  const QuadScale contain = fit_scale(FitMode::Contain, 200, 100, 500, 500);
  EXPECT_FLOAT_EQ(contain.x, 1.0f);
  EXPECT_FLOAT_EQ(contain.y, 0.5f);
  const QuadScale cover = fit_scale(FitMode::Cover, 200, 100, 500, 500);
  EXPECT_FLOAT_EQ(cover.x, 2.0f);
  EXPECT_FLOAT_EQ(cover.y, 1.0f);
  const QuadScale stretch = fit_scale(FitMode::Stretch, 200, 100, 500, 500);
  EXPECT_FLOAT_EQ(stretch.x, 1.0f);
  EXPECT_FLOAT_EQ(stretch.y, 1.0f);
  // A tall image on a wide view: contain leaves bars left and right.
  const QuadScale tall = fit_scale(FitMode::Contain, 100, 400, 1600, 900);
  EXPECT_NEAR(tall.x, (100.0 / 400) / (1600.0 / 900), 1e-6);
  EXPECT_FLOAT_EQ(tall.y, 1.0f);
}

TEST(FrameStats, PercentilesAndLateFrames) {
  FrameStats stats;
  for (int i = 0; i < 98; ++i) stats.add(16.7, 16.7, i % 5 == 0);
  stats.add(40.0, 16.7, 0);  // late: > 1.5 refresh intervals
  stats.add(20.0, 16.7, 0);  // not late
  const FrameTimeSummary s = stats.summary();
  EXPECT_EQ(s.frames, 100u);
  EXPECT_EQ(s.late, 1u);
  EXPECT_NEAR(s.p50_ms, 16.7, 1e-3);
  EXPECT_NEAR(s.p99_ms, 20.0, 1e-3) << "nearest rank: the 99th of 100 sorted times";
  EXPECT_NEAR(s.max_ms, 40.0, 1e-9);
  EXPECT_NEAR(s.fps, 100 / (98 * 0.0167 + 0.060), 0.5);
  EXPECT_EQ(stats.histogram()[16], 98u);
  EXPECT_EQ(stats.histogram()[40], 1u);
}

TEST(ShaderLog, DriverLineNumbersBecomeFileAndLine) {
  EXPECT_EQ(name_lines_in_log("0:12(3): error: syntax error", "present.frag"),
            "present.frag:12: error: syntax error");
  EXPECT_EQ(name_lines_in_log("0(7) : error C0000: syntax error", "present.vert"),
            "present.vert:7: error C0000: syntax error");
}

}  // namespace
}  // namespace dw::render
