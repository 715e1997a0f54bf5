// The overlay drawn for real (Mesa's llvmpipe under Xvfb): the frame-time graph has drawn pixels
// inside its rectangle, and the statistics window at its default size shows every value whole.
#include <gtest/gtest.h>
#include <imgui.h>
#include <imgui_internal.h>

#include <cmath>
#include <cstdlib>

#include "core/config_store.h"
#include "render/offscreen.h"
#include "render/overlay.h"
#include "render/window.h"

namespace dw::render {
namespace {

constexpr int kWidth = 1000, kHeight = 640;

class OverlayGl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr)
      GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)";
    config_.display.width = kWidth;
    config_.display.height = kHeight;
    window_.emplace(config_.display, /*headless=*/true);
    target_.emplace(kWidth, kHeight);
    store_.emplace(config_);
    overlay_.emplace(window_->sdl(), window_->gl_context(), *store_, /*visible=*/true, "");
  }

  // Draws a few frames (a new window is laid out on its first frame) over black and reads back.
  Image draw(const OverlayModel& model) {
    for (int i = 0; i < 3; ++i) {
      target_->bind();
      glViewport(0, 0, kWidth, kHeight);
      glClearColor(0, 0, 0, 1);
      glClear(GL_COLOR_BUFFER_BIT);
      overlay_->draw(model);
    }
    return read_framebuffer(kWidth, kHeight);
  }

  static OverlayModel busy_model() {
    OverlayModel m;
    for (int i = 0; i < 300; ++i) m.frame_times.push_back(16.7f + 8.0f * std::sin(i * 0.2f));
    m.ring_capacity = 256;
    m.ring_depth = 100;
    m.status = {
        {"generation.keyframes", "1234"},
        {"generation.servers[http://a-long-server-name.example:8188].last_error",
         "connection refused while uploading the input image of lane 2 after 3 retries"},
        {"generation.collapse", "colour 1.77 (d +0.000), structure 0.78 (d +0.000), more words"}};
    return m;
  }

  Config config_;
  std::optional<Window> window_;
  std::optional<Offscreen> target_;
  std::optional<ConfigStore> store_;
  std::optional<Overlay> overlay_;
};

// The graph line's pixels inside the graph's rectangle, from `from` (a share of its width) to
// its right edge: how many, and how many rows they span.
struct GraphLine {
  int pixels = 0;
  int rows = 0;
};

GraphLine graph_line(const Image& img, const OverlayRect& r, double from = 0.0) {
  GraphLine g;
  for (int y = static_cast<int>(r.y); y < static_cast<int>(r.y + r.height); ++y) {
    int in_row = 0;
    for (int x = static_cast<int>(r.x + from * r.width); x < static_cast<int>(r.x + r.width); ++x) {
      const std::uint8_t* p = img.pixel(x, y);  // the line's colour is (0.3, 0.85, 1.0)
      if (std::abs(p[0] - 77) < 40 && std::abs(p[1] - 217) < 40 && std::abs(p[2] - 255) < 40)
        ++in_row;
    }
    g.pixels += in_row;
    g.rows += in_row > 0 ? 1 : 0;
  }
  return g;
}

TEST_F(OverlayGl, FrameTimeGraphHasDrawnPixels) {
  const Image img = draw(busy_model());
  const OverlayRect r = overlay_->graph_rect();
  ASSERT_GT(r.width, 100) << "the graph spans the window, not a negative or tiny width";
  ASSERT_GT(r.height, 20);
  EXPECT_GT(graph_line(img, r).pixels, static_cast<int>(r.width / 4))
      << "a line across the graph, not an empty box";
}

TEST_F(OverlayGl, OneLongFrameDoesNotFlattenTheGraph) {
  // Frame times of 8.7 to 24.7 ms after one start-up frame of 400 ms: scaled to the longest, they
  // would all lie within a few pixels of the axis.
  OverlayModel m = busy_model();
  m.frame_times.front() = 400.0f;
  const Image img = draw(m);
  const OverlayRect r = overlay_->graph_rect();
  ASSERT_GT(r.height, 20);
  // Right of the long frame (the first value, at the left edge) the line still goes up and down.
  EXPECT_GT(graph_line(img, r, 0.5).rows, static_cast<int>(r.height / 4))
      << "the usual frame times keep their shape";
}

TEST_F(OverlayGl, StatsWindowShowsEveryValueWholeAtItsDefaultSize) {
  draw(busy_model());
  ImGuiWindow* stats = ImGui::FindWindowByName("dreamwindow");
  ASSERT_NE(stats, nullptr);
  // Nothing reaches past the window's right edge ...
  EXPECT_LE(stats->ContentSize.x, stats->ContentRegionRect.GetWidth() + 1.0f);
  // ... and no cell of the pipeline's tables (one per status section) holds more than its column
  // shows (a value too long for its column would be clipped there).
  ImGuiContext& g = *ImGui::GetCurrentContext();
  int tables = 0;
  for (int n = 0; n < g.Tables.GetMapSize(); ++n) {
    ImGuiTable* table = g.Tables.TryGetMapData(n);
    if (!table || table->OuterWindow != stats) continue;
    ++tables;
    for (int c = 0; c < table->ColumnsCount; ++c) {
      const ImGuiTableColumn& column = table->Columns[c];
      EXPECT_LE(column.ContentMaxXUnfrozen, column.ClipRect.Max.x + 1.0f) << "column " << c;
    }
  }
  EXPECT_GT(tables, 0) << "the pipeline's status sections are drawn as tables";
  // ... and the window fits the screen at its default position and size.
  EXPECT_LE(stats->Pos.x + stats->Size.x, kWidth);
}

TEST_F(OverlayGl, ParameterPanelFitsBesideTheStatsWindow) {
  draw(busy_model());
  ImGuiWindow* stats = ImGui::FindWindowByName("dreamwindow");
  ImGuiWindow* params = ImGui::FindWindowByName("parameters");
  ASSERT_NE(stats, nullptr);
  ASSERT_NE(params, nullptr);
  EXPECT_GE(params->Pos.x, stats->Pos.x + stats->Size.x) << "the two windows do not overlap";
  EXPECT_LE(params->Pos.x + params->Size.x, kWidth);
}

}  // namespace
}  // namespace dw::render
