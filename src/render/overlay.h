// The Dear ImGui overlay for live tuning: statistics (fps, a frame-time graph, ring depth, the
// pipeline's state, recent warnings and errors) and the parameter panel (parameter_panel.h: every
// row of the table as a widget, live edits published at once, restart edits kept for "save").
// It also applies the main thread's own live settings (log_level) whenever the config changes.
// Its windows are placed to fit the window (overlay_layout.h) on the first frame and whenever the
// window's size changes. Toggled by F1 or Tab; hidden by default in full-screen. Main thread only.
#pragma once

#include <SDL.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config_store.h"
#include "core/log_board.h"
#include "render/frame_stats.h"
#include "render/overlay_layout.h"
#include "render/overlay_text.h"
#include "render/parameter_panel.h"
#include "render/presenter.h"

namespace dw::render {

// Where the frame-time graph was last drawn, in window pixels from the top left (for tests).
struct OverlayRect {
  float x = 0, y = 0, width = 0, height = 0;
};

// What the overlay shows besides the parameters; the app fills it (at most a few times a second).
struct OverlayModel {
  FrameTimeSummary frames;
  std::vector<float> frame_times;
  std::size_t ring_depth = 0;
  std::size_t ring_capacity = 0;
  PresenterStats presenter;
  std::vector<std::pair<std::string, std::string>> status;  // label, value
  OverlayState state;    // the line at the top: paused, frozen, recording, source, problems
  BufferFigures buffer;  // ready in the ring and being decoded, labelled apart
  std::string key_hint;  // the keys that work now (overlay_text.h key_hint)
};

class Overlay {
 public:
  // `save_path`: the config file the parameter panel's "save" writes.
  Overlay(SDL_Window* window, SDL_GLContext context, ConfigStore& config, bool visible,
          std::string save_path = default_config_path());
  // Edits through the app's shared editor (the remote edits through it too).
  Overlay(SDL_Window* window, SDL_GLContext context, ConfigStore& config, ParamEditor& editor,
          bool visible);
  ~Overlay();
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  // Feeds an event to ImGui; true when ImGui wants it (the app then ignores it).
  bool handle_event(const SDL_Event& event);
  bool visible() const { return visible_; }
  void set_visible(bool v) { visible_ = v; }
  void toggle() { visible_ = !visible_; }
  // Draws into the bound framebuffer (after the presenter).
  void draw(const OverlayModel& model);
  // Parameters changed through the overlay so far (for tests and status).
  std::uint64_t edits() const { return parameters_.edits(); }
  ParameterPanel& parameters() { return parameters_; }
  const OverlayRect& graph_rect() const { return graph_rect_; }
  // The state and buffer lines as last drawn (for tests).
  std::string state_text() const { return join_state_parts(state_parts_); }
  const std::string& buffer_text() const { return buffer_text_; }

 private:
  void draw_stats(const OverlayModel& model);
  void draw_frame_graph(const OverlayModel& model);
  void draw_state(const OverlayModel& model);
  void follow_recording(bool recording);
  void apply_main_thread_settings();
  void init_imgui(SDL_Window* window, SDL_GLContext context);

  ConfigStore& config_;
  bool visible_;
  ParameterPanel parameters_;
  std::uint64_t seen_version_;
  OverlayRect graph_rect_;
  std::vector<StatePart> state_parts_;  // as last drawn
  std::string buffer_text_;
  float laid_out_w_ = 0, laid_out_h_ = 0;  // the display size the windows were placed for
  std::optional<std::chrono::steady_clock::time_point> recording_since_;
};

}  // namespace dw::render
