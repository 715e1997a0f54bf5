// The overlay drawn for real (Mesa's llvmpipe under Xvfb): the frame-time graph has drawn pixels
// inside its rectangle, the statistics window at its default size shows every value whole, both
// windows fit the screen at any size, the state line says paused, frozen and recording, and the
// workers are one row each.
#include <fmt/format.h>
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
    open(kWidth, kHeight);
  }

  // A window of this size with a visible overlay (a second call replaces the first).
  void open(int width, int height) {
    overlay_.reset();
    target_.reset();
    window_.reset();
    width_ = width;
    height_ = height;
    config_.display.width = width;
    config_.display.height = height;
    window_.emplace(config_.display, /*headless=*/true);
    target_.emplace(width, height);
    store_.emplace(config_);
    overlay_.emplace(window_->sdl(), window_->gl_context(), *store_, /*visible=*/true, "");
  }

  // Draws a few frames (a new window is laid out on its first frame) over black and reads back.
  Image draw(const OverlayModel& model) {
    for (int i = 0; i < 3; ++i) {
      target_->bind();
      glViewport(0, 0, width_, height_);
      glClearColor(0, 0, 0, 1);
      glClear(GL_COLOR_BUFFER_BIT);
      overlay_->draw(model);
    }
    return read_framebuffer(width_, height_);
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
    for (const char* worker : {"orchestrator", "interpolation", "cache", "keyframes"}) {
      const std::string at = fmt::format("workers[{}].", worker);
      m.status.insert(m.status.end(), {{at + "name", worker},
                                       {at + "state", "running"},
                                       {at + "running", "yes"},
                                       {at + "errors", "0"},
                                       {at + "last_error", "-"}});
    }
    return m;
  }

  int width_ = kWidth, height_ = kHeight;
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

// Both windows on the screen, whatever its size; some of the picture in view. At 640x360 the
// parameters used to open at x 484, 460 wide: cut off at the right edge.
void expect_fits(const char* size, float width, float height) {
  ImGuiWindow* stats = ImGui::FindWindowByName("dreamwindow");
  ImGuiWindow* params = ImGui::FindWindowByName("parameters");
  ASSERT_NE(stats, nullptr);
  ASSERT_NE(params, nullptr);
  for (ImGuiWindow* w : {stats, params}) {
    EXPECT_GE(w->Pos.x, 0) << size << " " << w->Name;
    EXPECT_GE(w->Pos.y, 0) << size << " " << w->Name;
    EXPECT_LE(w->Pos.x + w->Size.x, width) << size << " " << w->Name;
    EXPECT_LE(w->Pos.y + w->Size.y, height) << size << " " << w->Name;
  }
  const double covered = static_cast<double>(stats->Size.x) * stats->Size.y +
                         static_cast<double>(params->Size.x) * params->Size.y;
  EXPECT_LE(covered / (static_cast<double>(width) * height), 0.7)
      << size << ": the picture stays partly in view";
}

TEST_F(OverlayGl, WindowsFitASmallScreen) {
  open(640, 360);
  draw(busy_model());
  expect_fits("640x360", 640, 360);
}

TEST_F(OverlayGl, WindowsFollowTheWindowsSize) {
  open(1280, 720);
  draw(busy_model());
  expect_fits("1280x720", 1280, 720);
  // The same overlay after the window shrinks: placed again, not left where they were.
  SDL_SetWindowSize(window_->sdl(), 640, 360);
  int w = 0, h = 0;
  SDL_GetWindowSize(window_->sdl(), &w, &h);
  if (w != 640 || h != 360) GTEST_SKIP() << "this video driver did not resize the window";
  width_ = 640;
  height_ = 360;
  target_.emplace(640, 360);
  draw(busy_model());
  expect_fits("640x360 after 1280x720", 640, 360);
}

// The state line is the first thing in the statistics window and says paused, frozen and REC.
TEST_F(OverlayGl, StateLineShowsPauseFreezeAndRecording) {
  OverlayModel m = busy_model();
  draw(m);
  EXPECT_EQ(overlay_->state_text().rfind("running", 0), 0u) << overlay_->state_text();
  m.state.paused = true;
  m.state.frozen = true;
  m.state.recording = true;
  m.state.source = "offline";
  draw(m);
  const std::string& line = overlay_->state_text();
  EXPECT_EQ(line.rfind("PAUSED  FROZEN  REC 00:0", 0), 0u) << line;
  EXPECT_NE(line.find("source offline"), std::string::npos) << line;
  m.buffer = {0.0, 3.667, 16};
  draw(m);
  EXPECT_EQ(overlay_->buffer_text(), "ready 0.0 s in the ring, 3.7 s being decoded, target 16 s");
}

// The workers are one row each (a name column and one per field), not one line per field, and a
// column does not shrink when its values get shorter again.
TEST_F(OverlayGl, WorkersAreOneRowEachWithSteadyColumns) {
  OverlayModel m = busy_model();
  const auto workers_table = []() -> ImGuiTable* {
    ImGuiContext& g = *ImGui::GetCurrentContext();
    for (int n = 0; n < g.Tables.GetMapSize(); ++n)
      if (ImGuiTable* t = g.Tables.TryGetMapData(n); t && t->ColumnsCount >= 4) return t;
    return nullptr;
  };
  draw(m);
  ImGuiTable* table = workers_table();
  ASSERT_NE(table, nullptr) << "a table with a column per field";
  EXPECT_EQ(table->ColumnsCount, 4) << "worker, state, errors, last_error";
  const float state_width = table->Columns[1].WidthGiven;
  for (auto& [label, value] : m.status)
    if (label == "workers[cache].state") value = "unhealthy";
  draw(m);
  const float wider = workers_table()->Columns[1].WidthGiven;
  EXPECT_GT(wider, state_width);
  for (auto& [label, value] : m.status)
    if (label == "workers[cache].state") value = "running";
  draw(m);
  EXPECT_EQ(workers_table()->Columns[1].WidthGiven, wider) << "no jump back";
}

}  // namespace
}  // namespace dw::render
