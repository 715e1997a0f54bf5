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

// Output 1 is the main window: while its display is missing it shows on display 0 when it is the
// only window; beside other outputs it waits hidden, so that it never covers their pictures.
TEST(MainWindowOptions, Output1WaitsHiddenWhereOtherOutputsAre) {
  const WindowOptions alone = main_window_options(Config{});
  EXPECT_TRUE(alone.wait_for_display) << "the single window";
  EXPECT_FALSE(alone.hide_while_away) << "the single window shows on display 0 meanwhile";
  EXPECT_EQ(alone.display_setting, "display.index");
  for (const std::vector<int>& displays : {std::vector<int>{1, 2}, std::vector<int>{1, 0}}) {
    const WindowOptions beside = main_window_options(with_outputs_on(displays));
    EXPECT_TRUE(beside.wait_for_display);
    EXPECT_TRUE(beside.hide_while_away) << "output 2 is on display " << displays[1];
    EXPECT_EQ(beside.display_setting, "output 1: display");
  }
}

}  // namespace
}  // namespace dw::render
