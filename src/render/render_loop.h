// The main thread's loop: events, the presenter, the overlay, the swap, and the loop's own
// statistics. It never waits on a worker; it stops on Esc (Ctrl+Alt+Q in kiosk mode,
// render/kiosk.h), window close (not in kiosk mode), a signal (the app's quit flag), a quit
// command (Commands::quit) or after a given number of frames (headless runs and tests). While
// Commands::frozen is set the presenter is not advanced: the picture is held exactly.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "core/actions.h"
#include "core/canvas_sink.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "core/image.h"
#include "render/calibration.h"
#include "render/canvas_capture.h"
#include "render/frame_stats.h"
#include "render/key_actions.h"
#include "render/kiosk.h"
#include "render/offscreen.h"
#include "render/outputs.h"
#include "render/overlay.h"
#include "render/presenter.h"
#include "render/window.h"

namespace dw::render {

struct RenderLoopOptions {
  long long frames = 0;           // 0: until quit; headless runs count from the start of playback
  double startup_timeout_s = 60;  // headless: count frames anyway after this long without playback
  bool capture_last = false;  // keep the last presented image (without overlay) for a screenshot
  bool capture_last_overlay = false;  // the same image with the overlay drawn over it
  // The operator's requests (freeze, quit, screenshot, the schedule's light); null: none.
  Commands* commands = nullptr;
  // The app's actions, run by the operator's keys on a thread of their own (render/key_actions.h;
  // keep the table alive as long as the loop); null: no such keys.
  const ActionTable* actions = nullptr;
  // Gets copies of the canvas (recording, screenshots), read back asynchronously; null: none.
  CanvasSink* canvas_sink = nullptr;
  // The GPU reset status (a GLenum, render/gl_reset.h), asked once a turn; null: the main
  // window's context's. Tests stand in a reset here.
  std::function<unsigned()> reset_status;
};

// Numbers the rest of the program may read from any thread while the loop runs.
struct LiveDisplayStats {
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> content_frames{0};
  std::atomic<std::uint64_t> content_uploads{0};  // frames uploaded to the GPU (once each)
  std::atomic<std::uint64_t> sequence{0};
  std::atomic<std::uint64_t> keyframe{0};
  std::atomic<std::uint64_t> late{0};
  std::atomic<double> fps{0};
  std::atomic<double> p50_ms{0};
  std::atomic<double> p99_ms{0};
  std::atomic<double> content_fps{0};
  // Headless: seconds from process start to the first picture that differs from the first one
  // shown (idle motion or content); negative until then.
  std::atomic<double> first_motion_s{-1};
  // The presenter's pace (for status.json, /metrics and the overlay).
  std::atomic<bool> idle{false};              // no content to play: its own motion is on
  std::atomic<std::uint64_t> idle_spells{0};  // times the ring ran dry after playback began
  std::atomic<double> rate_factor{1};         // content rate / display.content_fps
  std::atomic<double> supply_fps{0};          // content frames/s the producer delivers
  // The display the main window is on, whether its own display is there, and how often a window
  // was moved back onto its display (render/window.h, follow_display).
  std::atomic<bool> display_on_target{true};
  std::atomic<std::uint64_t> display_moves{0};
  // Loop turns that threw (the last picture stayed on screen; render_loop.cpp, turn_failed).
  std::atomic<std::uint64_t> failed_turns{0};
  std::string display() const {
    std::lock_guard lock(display_mutex);
    return display_name;
  }

 private:
  friend class RenderLoop;
  mutable std::mutex display_mutex;
  std::string display_name;
};

class RenderLoop {
 public:
  using ModelFiller = std::function<void(OverlayModel&)>;

  RenderLoop(Window& window, Presenter& presenter, Overlay* overlay, ConfigStore& config,
             std::size_t ring_capacity, std::function<std::size_t()> ring_depth);

  // Runs until quit; returns the number of frames presented. Throws dw::Error when the GPU was
  // reset, and when kMaxFailedTurnsInARow turns in a row failed.
  std::uint64_t run(const RenderLoopOptions& options, const std::atomic<bool>& quit,
                    const ModelFiller& fill_model);

  // Draws the canvas and these outputs instead of the presenter straight into the window (null:
  // no [[output]]s, the single window as before).
  void set_outputs(Outputs* outputs) { outputs_ = outputs; }
  const FrameStats& stats() const { return stats_; }
  const LiveDisplayStats& live() const { return live_; }
  // The last presented image (when capture_last was set).
  const std::optional<Image>& last_image() const { return last_image_; }
  // The last presented image with the overlay (when capture_last_overlay was set).
  const std::optional<Image>& last_overlay_image() const { return last_overlay_image_; }
  // Calibration mode (render/calibration.h): C (or Ctrl+Alt+C) toggles it, its keys and mouse
  // drags go to it while it is on, and its pattern replaces the picture. Null: none.
  // With outputs (set them first) the pattern goes into the canvas and the handles onto the
  // selected output's window.
  void set_calibration(Calibration* calibration);
  // With outputs and capture_last: every output's last picture, and the canvas's.
  const std::vector<Image>& last_output_images() const { return last_output_images_; }
  const std::optional<Image>& last_canvas_image() const { return last_canvas_image_; }
  // Turns that may fail in a row (the last picture stays) before run() gives up with dw::Error:
  // about 3 s or more of nothing new drawn.
  static constexpr std::uint64_t kMaxFailedTurnsInARow = 300;
  // Loop turns spent waiting for events while the window was minimised (nothing is drawn then;
  // a window that feeds projector outputs of their own is drawn on, paced at the refresh rate).
  std::uint64_t minimised_waits() const { return minimised_waits_; }
  // The canvas read-back's numbers (when a canvas sink was given).
  std::optional<CanvasCaptureStats> capture_stats() const;

 private:
  bool handle_events();  // false: quit
  bool run_chord(Chord chord, bool& keep_running);
  void update_cursor(const KioskConfig& kiosk);
  EventView event_view(const SDL_Event& event) const;
  void track_window_state(const SDL_Event& event);
  void follow_displays(bool changed);
  void watch_first_motion(std::optional<Image>& first, int w, int h);
  std::pair<int, int> draw_picture(const Config& config);
  void capture_canvas(int w, int h, double dt);
  bool quit_requested() const;
  bool frozen() const;
  void capture_last(int w, int h);
  // A turn threw: logged (rate-limited) and counted; throws dw::Error once
  // kMaxFailedTurnsInARow turns in a row have failed (the fault is not passing).
  void turn_failed(const std::exception& e);
  // Throws dw::Error naming the reset when the GPU was reset (the context is lost: nothing drawn
  // would show again).
  void check_reset(const RenderLoopOptions& options) const;

  Window& window_;
  Presenter& presenter_;
  Overlay* overlay_;
  Calibration* calibration_ = nullptr;
  ConfigStore& config_;
  std::size_t ring_capacity_;
  std::function<std::size_t()> ring_depth_;
  std::optional<Offscreen> offscreen_;
  Commands* commands_ = nullptr;  // from the running options
  const ActionTable* actions_ = nullptr;
  std::unique_ptr<KeyActionRunner> key_runner_;  // runs the keys' actions (made with actions_)
  Outputs* outputs_ = nullptr;
  std::optional<CanvasCapture> capture_;  // while run() has a canvas sink
  FrameStats stats_;
  LiveDisplayStats live_;
  std::optional<Image> last_image_;
  std::optional<Image> last_overlay_image_;
  std::vector<Image> last_output_images_;
  std::optional<Image> last_canvas_image_;
  bool minimised_ = false;
  bool displays_changed_ = false;     // a display event since the windows last followed
  bool displays_seen_ = false;        // the status has the window's display
  std::optional<bool> cursor_shown_;  // what SDL was last told
  std::uint64_t minimised_waits_ = 0;
  std::uint64_t failed_turns_ = 0;  // in a row
};

}  // namespace dw::render
