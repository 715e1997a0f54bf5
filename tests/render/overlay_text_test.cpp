// The overlay's own lines and layout without a display: the state line says paused, frozen and
// recording first; the buffer line labels the ring and the decode queue apart; the key hint names
// the keys that work in the current mode; the layout keeps both windows on the screen with some
// of the picture in view at every size.
#include "render/overlay_text.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "render/key_actions.h"
#include "render/overlay_layout.h"

namespace dw::render {
namespace {

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(OverlayText, StateLineSaysPausedFrozenAndRecordingFirst) {
  OverlayState s;
  s.source = "offline";
  EXPECT_EQ(state_line(s, -1), "running  source offline  no problems");
  s.paused = true;
  s.pause_reasons = "operator";
  s.frozen = true;
  s.recording = true;
  s.problems = {"worker cache: failed", "cache write errors: 3"};
  EXPECT_EQ(state_line(s, 751), "PAUSED (operator)  FROZEN  REC 12:31  source offline  2 problems");
  const std::vector<StatePart> parts = state_parts(s, 751);
  EXPECT_EQ(parts.front().tone, Tone::Warn);
  EXPECT_EQ(parts.back().tone, Tone::Alert);
  EXPECT_EQ(clock_text(3723), "1:02:03");
  EXPECT_EQ(clock_text(0.4), "00:00");
}

// The figure that read "3.667 s" beside "ring 0/256": what is ready and what is being decoded.
TEST(OverlayText, BufferLineLabelsRingAndDecodingApart) {
  EXPECT_EQ(buffer_line({0.0, 3.6667, 16}),
            "ready 0.0 s in the ring, 3.7 s being decoded, target 16 s");
  EXPECT_TRUE(has(buffer_line({}), "waiting"));
}

TEST(OverlayText, KeyHintNamesTheKeysThatWorkNow) {
  KioskConfig k;
  const std::string plain = key_hint(k, true, true);
  for (const char* key : {"F1/Tab", "F11", "Esc", "C calibrate", "Space pause", "F freeze",
                          "N next theme", "I inject", "R record", "S/F12 screenshot"})
    EXPECT_TRUE(has(plain, key)) << key << " in " << plain;
  for (const KeyAction& a : key_actions()) EXPECT_TRUE(has(plain, a.name)) << a.name;
  EXPECT_FALSE(has(key_hint(k, false, false), "Space")) << "no actions: no operator keys";
  EXPECT_FALSE(has(key_hint(k, false, false), "calibrate"));

  k.enabled = true;
  const std::string kiosk = key_hint(k, true, true);
  EXPECT_TRUE(has(kiosk, "Ctrl+Alt+O")) << kiosk;
  EXPECT_TRUE(has(kiosk, "Ctrl+Alt+Q"));
  EXPECT_TRUE(has(kiosk, "Ctrl+Alt+C"));
  for (const char* key : {"F1", "F11", "Esc", "Space"})
    EXPECT_FALSE(has(kiosk, key)) << key << " does nothing in kiosk mode: " << kiosk;
  k.chords = false;
  EXPECT_FALSE(has(key_hint(k, true, true), "Ctrl")) << "chords off: no key works";
}

bool inside(const PanelRect& r, float w, float h) {
  return r.x >= 0 && r.y >= 0 && r.x + r.width <= w && r.y + r.height <= h && r.width > 0 &&
         r.height > 0;
}

bool overlap(const PanelRect& a, const PanelRect& b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

// Of the window's area, the share neither window covers (a folded window covers its title bar).
double picture_in_view(const OverlayLayout& l, float w, float h) {
  const auto area = [](const PanelRect& r) {
    return static_cast<double>(r.width) * (r.collapsed ? 24.0 : r.height);
  };
  return 1.0 - (area(l.stats) + area(l.parameters)) / (static_cast<double>(w) * h);
}

TEST(OverlayLayout, BothWindowsFitWithThePictureInViewAtEverySize) {
  const std::pair<float, float> sizes[] = {{320, 240},  {640, 360},   {800, 600},
                                           {1280, 720}, {1920, 1080}, {3840, 2160}};
  for (const auto& [w, h] : sizes) {
    const OverlayLayout l = overlay_layout(w, h);
    EXPECT_TRUE(inside(l.stats, w, h)) << w << "x" << h;
    EXPECT_TRUE(inside(l.parameters, w, h)) << w << "x" << h;
    if (!l.parameters.collapsed) {
      EXPECT_FALSE(overlap(l.stats, l.parameters)) << w << "x" << h;
    }
    EXPECT_GE(picture_in_view(l, w, h), 0.3) << w << "x" << h;
  }
  // At 1280x720 the two windows left 26 % of the width; now the middle of the picture shows.
  const OverlayLayout l = overlay_layout(1280, 720);
  EXPECT_GE(l.parameters.x - (l.stats.x + l.stats.width), 0.35f * 1280);
}

}  // namespace
}  // namespace dw::render
