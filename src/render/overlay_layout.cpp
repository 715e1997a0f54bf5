#include "render/overlay_layout.h"

#include <algorithm>

namespace dw::render {
namespace {

constexpr float kMaxPanelWidth = 460;    // wider only spreads the lines out
constexpr float kMinPanelWidth = 240;    // narrower wraps every value
constexpr float kMaxParamsHeight = 560;  // the picture below stays in view
constexpr float kSideBySide = 900;       // from this width both windows open beside each other
constexpr float kStacked = 560;          // below this width they are stacked

}  // namespace

OverlayLayout overlay_layout(float width, float height) {
  const float w = std::max(width, 1.0f), h = std::max(height, 1.0f);
  const float margin = w >= kSideBySide ? 12.0f : 8.0f;
  const float room_w = std::max(w - 2 * margin, 1.0f), room_h = std::max(h - 2 * margin, 1.0f);
  OverlayLayout l;
  if (w < kStacked) {
    // One column: the statistics above, the parameters folded below them.
    const float stats_h = std::max(room_h * 0.6f, std::min(room_h, 120.0f));
    l.stats = {margin, margin, room_w, stats_h, false};
    const float params_y = std::min(margin + stats_h + margin, h - margin - 24.0f);
    l.parameters = {margin, std::max(params_y, margin), room_w,
                    std::max(h - margin - params_y, 24.0f), true};
    return l;
  }
  if (w < kSideBySide) {
    // The statistics get half the width; the parameters start folded at the top right, so the
    // right half of the picture shows until they are opened.
    const float stats_w = std::clamp(0.5f * w, kMinPanelWidth, kMaxPanelWidth);
    l.stats = {margin, margin, stats_w, room_h, false};
    const float params_w = std::max(w - stats_w - 3 * margin, kMinPanelWidth * 0.75f);
    l.parameters = {w - margin - params_w, margin, params_w, room_h, true};
    return l;
  }
  const float panel_w = std::clamp(0.3f * w, kMinPanelWidth, kMaxPanelWidth);
  l.stats = {margin, margin, panel_w, std::min(room_h, std::max(0.7f * h, 360.0f)), false};
  l.parameters = {w - margin - panel_w, margin, panel_w, std::min(room_h, kMaxParamsHeight), false};
  return l;
}

}  // namespace dw::render
