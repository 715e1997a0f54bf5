// Calibration mode: test patterns per output (grid, crosshair, colour bars, blend ramps, the
// output's number, all drawn procedurally by shaders/calibration.frag) and the handles to move an
// output's corners and mesh nodes with the keys and the mouse (the edit model is
// calibration_editor.h). Changes are live: every move is handed to `on_change` (the app publishes
// it, so the warp follows the drag), and leaving calibration (or S) hands the result to `on_save`.
// Main thread only, except request_toggle (the "calibrate" action, from any thread).
//
// Keys while calibrating: P next pattern, Tab next output, 1-4 a corner, N the next point (mesh
// nodes too), arrows nudge the selected point 4 px (Shift: 0.25 px), M cycles the mesh (none,
// 3x3, 5x5), R resets the output, S saves, C or Esc leaves (and saves). The mouse's left button
// drags the nearest point.
#pragma once

#include <SDL.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/config_outputs.h"
#include "render/calibration_editor.h"
#include "render/gl.h"
#include "render/marks.h"
#include "render/shader.h"

namespace dw::render {

enum class Pattern { Grid, Crosshair, ColourBars, BlendRamps, Numbers };
constexpr int kPatternCount = 5;
const char* pattern_name(Pattern pattern);
// "grid", "crosshair", "bars", "ramps", "numbers" (the --calibrate names); nothing for others.
std::optional<Pattern> pattern_from_name(std::string_view name);

// Where one output's pattern goes in a target: its viewport in pixels (lower-left origin, as
// glViewport takes it), its region of the canvas and its number (1-based).
struct PatternView {
  int x = 0, y = 0, width = 0, height = 0;
  OutputRegion canvas;
  int number = 1;
  bool edge = true;  // mark the viewport's edge in red (grid)
};

// Where an output's logical frame (its corners and mesh: 0..1, y down) sits in its window of
// width x height pixels, through its rotation and flips (the exact pixel permutation of
// render/warp.h, extended to points).
class OutputView {
 public:
  OutputView(const OutputConfig& output, int width, int height);
  OutputPoint to_window(OutputPoint logical) const;  // window 0..1, y down
  OutputPoint to_logical(OutputPoint window) const;

 private:
  // logical pixel = origin + m * (window pixel - 0.5 centre), both in pixel units.
  double m_[4] = {1, 0, 0, 1};
  double origin_x_ = 0.5, origin_y_ = 0.5;
  int width_ = 1, height_ = 1, logical_w_ = 1, logical_h_ = 1;
};

// The window an input event came from: its output (-1: not known, the selected one) and its size
// in SDL's window coordinates (what mouse events use).
struct EventView {
  int output = -1;
  int width = 1, height = 1;
};

class Calibration {
 public:
  using OutputsHandler = std::function<void(const std::vector<OutputConfig>&)>;

  // Loads the shaders (the GL context must be current). `outputs`: the configured outputs
  // (empty: the one window).
  explicit Calibration(std::vector<OutputConfig> outputs);
  ~Calibration();
  Calibration(const Calibration&) = delete;
  Calibration& operator=(const Calibration&) = delete;

  bool active() const { return active_; }
  void set_active(bool on);
  void toggle() { set_active(!active_); }
  // Any thread: asks the main thread to toggle calibration at its next frame. The requester may
  // outlive the calibration (a remote's thread): its requests are then simply not seen.
  void request_toggle() { toggle_requests_->fetch_add(1, std::memory_order_relaxed); }
  std::function<void()> toggle_requester() const {
    return [requests = toggle_requests_] { requests->fetch_add(1, std::memory_order_relaxed); };
  }
  // Main thread, once per frame: carries out the requests made since the last call.
  void apply_requests();

  Pattern pattern() const { return pattern_; }
  void set_pattern(Pattern p) { pattern_ = p; }
  void next_pattern();
  CalibrationEditor& editor() { return editor_; }
  const CalibrationEditor& editor() const { return editor_; }

  // Keys and the mouse while active. A press in another output's window selects that output.
  // True when the event was calibration's.
  bool handle_event(const SDL_Event& event, const EventView& view);

  // The one-window preview: the selected output's pattern over the whole bound target (view_w x
  // view_h pixels) through its corner-pin, then the handles.
  void draw_preview(int view_w, int view_h);
  // With [[output]]s: every output's pattern into its region of the bound canvas (width x
  // height) with its number; the outputs' own warp then maps it.
  void draw_canvas(int width, int height);
  // With [[output]]s: the marks over output `index`'s target (width x height pixels): its edge
  // (its corner quad's outline), and its handles if it is the selected one. Plain data, so that
  // an output drawn on its own thread paints them (render/marks.h); empty when not active.
  CalibrationMarks output_marks(int index, int width, int height) const;
  // One output's pattern into the bound target, through `to_pattern` (viewport point -> pattern
  // point; the identity when the outputs' own warp comes after).
  void draw_pattern(const PatternView& view, const std::array<double, 9>& to_pattern);
  // Output `index`'s marks in a target of view_w x view_h pixels: its corner quad's outline
  // and, when it is the selected output, its corners and mesh nodes, the selected point filled.
  CalibrationMarks marks(int view_w, int view_h, int index) const;

  OutputsHandler on_change;  // after every move (live)
  OutputsHandler on_save;    // when leaving calibration or on S, if anything moved since

 private:
  bool handle_key(const SDL_KeyboardEvent& key);
  bool handle_mouse(const SDL_Event& event, const EventView& view);
  void nudge(int dx, int dy, bool fine);
  OutputView selected_view(int width, int height) const;
  void save();
  void changed();

  ShaderProgram pattern_program_;
  MarksPainter marks_painter_;  // the one-window preview's handles
  GLuint vertex_array_ = 0;
  CalibrationEditor editor_;
  bool active_ = false;
  Pattern pattern_ = Pattern::Grid;
  std::shared_ptr<std::atomic<std::uint64_t>> toggle_requests_ =
      std::make_shared<std::atomic<std::uint64_t>>(0);
  std::uint64_t toggles_seen_ = 0;
  std::uint64_t saved_version_ = 0;
  bool dragging_ = false;
  OutputPoint drag_last_;
  EventView view_;  // the last event's window: a nudge's pixel and direction
};

}  // namespace dw::render
