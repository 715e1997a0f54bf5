// Where the overlay's two windows go in a window of a given size, so that both fit on the screen
// and some of the picture stays in view: the statistics at the top left, the parameters at the top
// right, each about 30 % of the width (at most 460 pixels); a narrow window gives the statistics
// half of it and starts the parameters folded to their title bar; a very narrow one stacks them.
// The overlay applies it on its first frame and again whenever the window's size changes (a
// window moved by hand stays where it was put until then). Pure arithmetic, no ImGui.
#pragma once

namespace dw::render {

struct PanelRect {
  float x = 0, y = 0, width = 0, height = 0;
  bool collapsed = false;  // starts folded to its title bar
};

struct OverlayLayout {
  PanelRect stats;
  PanelRect parameters;
};

OverlayLayout overlay_layout(float width, float height);

}  // namespace dw::render
