// The Dear ImGui overlay for live tuning: statistics (fps, a frame-time graph, ring depth, the
// pipeline's state, recent warnings and errors) and every parameter of the table as a widget. A
// live parameter edited here is published at once through the ConfigStore; restart-only ones are
// shown but not editable. Toggled by F1 or Tab; hidden by default in full-screen. Main thread only.
#pragma once

#include <SDL.h>

#include <string>
#include <utility>
#include <vector>

#include "core/config_store.h"
#include "core/log_board.h"
#include "render/frame_stats.h"
#include "render/presenter.h"

namespace dw::render {

// What the overlay shows besides the parameters; the app fills it (at most a few times a second).
struct OverlayModel {
  FrameTimeSummary frames;
  std::vector<float> frame_times;
  std::size_t ring_depth = 0;
  std::size_t ring_capacity = 0;
  PresenterStats presenter;
  std::vector<std::pair<std::string, std::string>> status;  // label, value
};

class Overlay {
 public:
  Overlay(SDL_Window* window, SDL_GLContext context, ConfigStore& config, bool visible);
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
  std::uint64_t edits() const { return edits_; }

 private:
  void draw_stats(const OverlayModel& model);
  void draw_parameters();

  ConfigStore& config_;
  bool visible_;
  std::uint64_t edits_ = 0;
  std::vector<std::vector<char>> text_buffers_;  // one per String parameter
};

}  // namespace dw::render
