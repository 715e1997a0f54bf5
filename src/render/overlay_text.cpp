#include "render/overlay_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "render/key_actions.h"

namespace dw::render {
namespace {

// What a key's action does, in a word or two.
std::string_view action_hint(std::string_view action) {
  if (action == "toggle_pause") return "pause";
  if (action == "toggle_freeze") return "freeze";
  if (action == "next_theme") return "next theme";
  if (action == "inject_now") return "inject";
  if (action == "toggle_recording") return "record";
  if (action == "screenshot") return "screenshot";
  return action;
}

}  // namespace

std::string clock_text(double seconds) {
  const long total = std::lround(std::max(seconds, 0.0));
  if (total >= 3600)
    return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
  return fmt::format("{:02}:{:02}", total / 60, total % 60);
}

std::vector<StatePart> state_parts(const OverlayState& state, double recording_s) {
  std::vector<StatePart> parts;
  if (state.paused)
    parts.push_back({state.pause_reasons.empty() ? std::string("PAUSED")
                                                 : fmt::format("PAUSED ({})", state.pause_reasons),
                     Tone::Warn});
  if (state.frozen) parts.push_back({"FROZEN", Tone::Warn});
  if (!state.paused && !state.frozen) parts.push_back({"running", Tone::Good});
  if (state.recording)
    parts.push_back(
        {recording_s >= 0 ? fmt::format("REC {}", clock_text(recording_s)) : "REC", Tone::Alert});
  if (!state.source.empty()) parts.push_back({"source " + state.source, Tone::Plain});
  const std::size_t n = state.problems.size();
  if (n == 0)
    parts.push_back({"no problems", Tone::Plain});
  else
    parts.push_back({fmt::format("{} problem{}", n, n > 1 ? "s" : ""), Tone::Alert});
  return parts;
}

std::string join_state_parts(const std::vector<StatePart>& parts) {
  std::string line;
  for (const StatePart& p : parts) {
    if (!line.empty()) line += "  ";
    line += p.text;
  }
  return line;
}

std::string buffer_line(const BufferFigures& b) {
  if (b.ready_s < 0) return "buffer: waiting for the first status";
  return fmt::format("ready {:.1f} s in the ring, {:.1f} s being decoded, target {:.0f} s",
                     b.ready_s, b.decoding_s, b.target_s);
}

std::string key_hint(const KioskConfig& kiosk, bool calibration, bool actions) {
  if (kiosk.enabled) {
    if (!kiosk.chords)
      return "kiosk mode: no key works (stop it through the remote or its service)";
    return fmt::format("kiosk mode, other keys are off: Ctrl+Alt+O overlay{}  Ctrl+Alt+Q quit",
                       calibration ? "  Ctrl+Alt+C calibrate" : "");
  }
  std::string hint = "F1/Tab overlay  F11 full-screen  Esc quit";
  if (calibration) hint += "  C calibrate";
  if (!actions) return hint;
  // The operator's keys, one entry per action ("S/F12 screenshot").
  std::vector<std::pair<std::string, std::string_view>> entries;
  for (const KeyAction& k : key_actions()) {
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const auto& e) { return e.second == k.action; });
    if (it != entries.end())
      it->first += "/" + std::string(k.name);
    else
      entries.emplace_back(std::string(k.name), k.action);
  }
  for (const auto& [keys, action] : entries)
    hint += fmt::format("  {} {}", keys, action_hint(action));
  return hint;
}

}  // namespace dw::render
