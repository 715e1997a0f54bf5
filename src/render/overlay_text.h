// The overlay's own lines, apart from ImGui so they can be tested: the state line at the top of
// the statistics window (paused, frozen, recording, the source, problems), the buffer line (what
// is ready in the ring and what is still being decoded, labelled apart), and the key hint (the
// keys that work in the current mode: kiosk mode has only its chords, or none).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config_kiosk.h"

namespace dw::render {

// What the state line says. The render loop sets paused, frozen and recording every frame from
// the app's commands; the app fills the rest from the pipeline's status a few times a second.
struct OverlayState {
  bool paused = false;                // generation paused
  std::string pause_reasons;          // "operator", "schedule", ...; "" when not known
  bool frozen = false;                // the picture held exactly
  bool recording = false;             // the canvas is being recorded
  std::string source;                 // the keyframe source producing now
  std::vector<std::string> problems;  // status_problems(): what an operator must see
};

enum class Tone { Plain, Good, Warn, Alert };

struct StatePart {
  std::string text;
  Tone tone = Tone::Plain;
};

// The state line in parts, in order: PAUSED (with its reasons), FROZEN, REC and its length, the
// source, the problems count ("running" when neither paused nor frozen). `recording_s` is how
// long the recording has run, < 0 when not known.
std::vector<StatePart> state_parts(const OverlayState& state, double recording_s);
// The parts joined by two spaces (what the line reads).
std::string join_state_parts(const std::vector<StatePart>& parts);
inline std::string state_line(const OverlayState& state, double recording_s) {
  return join_state_parts(state_parts(state, recording_s));
}

// "12:31" under an hour, "1:02:03" from one.
std::string clock_text(double seconds);

// The buffer's figures in seconds of content; `ready_s` < 0 when not known (no status yet).
struct BufferFigures {
  double ready_s = -1;    // frames in the ring
  double decoding_s = 0;  // frames of pairs taken for decoding, not in the ring yet
  double target_s = 0;    // what the orchestrator fills ready + decoding up to
};

// "ready 0.0 s in the ring, 3.7 s being decoded, target 16 s".
std::string buffer_line(const BufferFigures& b);

// The keys that do something now: outside kiosk mode the plain keys (the overlay, full-screen,
// quit, calibration where there is one, and the operator's keys of key_actions.h where the app
// runs actions); in kiosk mode only the chords, or a line saying no key works.
std::string key_hint(const KioskConfig& kiosk, bool calibration, bool actions);

}  // namespace dw::render
