// Which display a full-screen window goes back onto after displays come and go
// (render/window.h, find_display): by name, by origin where two share a name, never another one.
#include <gtest/gtest.h>

#include <vector>

#include "render/outputs.h"
#include "render/window.h"

namespace dw::render {
namespace {

DisplayInfo display(int index, const char* name, int x, int y = 0) {
  return DisplayInfo{index, name, x, y, 1920, 1080, 60};
}

TEST(DisplayTarget, FollowsItsDisplayByNameWhereverItIsListed) {
  const std::vector<DisplayInfo> start = {display(0, "HDMI-1", 0), display(1, "DP-1", 1920)};
  const DisplayTarget target = target_of(start, 1);
  EXPECT_EQ(find_display(start, target), 1);
  // The projector is switched off: its display leaves the list. Nothing else is taken for it.
  EXPECT_EQ(find_display({display(0, "HDMI-1", 0)}, target), std::nullopt);
  // It comes back, listed first this time and placed elsewhere by the desktop.
  EXPECT_EQ(find_display({display(0, "DP-1", 0), display(1, "HDMI-1", 1920)}, target), 0);
}

TEST(DisplayTarget, TwoProjectorsOfOneModelAreToldApartByWhereTheyAre) {
  const std::vector<DisplayInfo> start = {display(0, "monitor", 0), display(1, "EPSON", 1920),
                                          display(2, "EPSON", 3840)};
  const DisplayTarget second = target_of(start, 2);
  EXPECT_FALSE(second.unique_name);
  EXPECT_EQ(find_display(start, second), 2);
  // The other projector of the same model is off: it is not this window's display.
  EXPECT_EQ(find_display({display(0, "monitor", 0), display(1, "EPSON", 1920)}, second),
            std::nullopt);
  // Its own comes back where it was, now listed second.
  EXPECT_EQ(find_display({display(0, "monitor", 0), display(1, "EPSON", 3840)}, second), 1);
}

TEST(DisplayTarget, ADisplayNotThereAtTheStartIsItsConfiguredIndexOnceThereIsOne) {
  DisplayTarget waiting;
  waiting.index = 1;  // no name: never seen
  EXPECT_EQ(find_display({display(0, "HDMI-1", 0)}, waiting), std::nullopt);
  EXPECT_EQ(find_display({display(0, "HDMI-1", 0), display(1, "DP-1", 1920)}, waiting), 1);
}

Config with_outputs_on(std::vector<int> displays) {
  Config c;
  for (int d : displays) {
    OutputConfig o;
    o.display = d;
    o.mode = OutputMode::Borderless;
    c.outputs.outputs.push_back(o);
  }
  return c;
}

// Output 1 is the main window: while its display is missing it shows on display 0, which is
// right unless another output's picture belongs there.
TEST(MainWindowOptions, Output1WaitsOnDisplay0OnlyWhereNoOtherOutputIs) {
  EXPECT_TRUE(main_window_options(Config{}).wait_for_display) << "the single window";
  EXPECT_EQ(main_window_options(Config{}).display_setting, "display.index");
  const WindowOptions beside = main_window_options(with_outputs_on({1, 2}));
  EXPECT_TRUE(beside.wait_for_display);
  EXPECT_EQ(beside.display_setting, "output 1: display");
  EXPECT_FALSE(main_window_options(with_outputs_on({1, 0})).wait_for_display)
      << "output 2's picture is on display 0";
  EXPECT_FALSE(main_window_options(Config{}).hide_while_away);
}

}  // namespace
}  // namespace dw::render
