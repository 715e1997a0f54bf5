#include "render/render_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>
#include <utility>

#include "render/gl_reset.h"
#include "render/key_actions.h"
#include "render/kiosk.h"

namespace dw::render {
namespace {

constexpr double kModelRefreshSeconds = 0.25;  // the overlay's pipeline numbers, 4 times a second
// Process start, near enough: static initialisation runs before main.
const auto kProcessStart = std::chrono::steady_clock::now();

}  // namespace

RenderLoop::RenderLoop(Window& window, Presenter& presenter, Overlay* overlay, ConfigStore& config,
                       std::size_t ring_capacity, std::function<std::size_t()> ring_depth)
    : window_(window),
      presenter_(presenter),
      overlay_(overlay),
      config_(config),
      ring_capacity_(ring_capacity),
      ring_depth_(std::move(ring_depth)) {
  if (window_.headless()) {
    int w, h;
    window_.drawable_size(w, h);
    offscreen_.emplace(w, h);
  }
}

// A minimised window is not drawn (unless it feeds projector outputs): swapping one returns at
// once on some drivers, so the loop would spin a core. Its state comes from the main window's own
// events: an output window hidden while its projector is away (the window manager may call that
// minimised) pauses nothing.
void RenderLoop::track_window_state(const SDL_Event& event) {
  if (event.type == SDL_DISPLAYEVENT) displays_changed_ = true;
  if (event.type != SDL_WINDOWEVENT) return;
  const Uint32 own = window_.sdl() != nullptr ? SDL_GetWindowID(window_.sdl()) : 0;
  if (event.window.windowID != own) return;
  switch (event.window.event) {
    case SDL_WINDOWEVENT_MINIMIZED:
      minimised_ = true;
      break;
    case SDL_WINDOWEVENT_RESTORED:
    case SDL_WINDOWEVENT_MAXIMIZED:
    case SDL_WINDOWEVENT_SHOWN:
    case SDL_WINDOWEVENT_EXPOSED:
      minimised_ = false;
      break;
    default:
      break;
  }
}

// Full-screen windows go onto their displays when SDL says the displays changed (a projector
// switched on, or off and on again); the first turn only fills in the status.
void RenderLoop::follow_displays(bool changed) {
  if (!changed && displays_seen_) return;
  displays_seen_ = true;
  if (changed && !window_.headless()) {
    window_.follow_display();
    if (outputs_) outputs_->follow_displays();
  }
  live_.display_on_target =
      window_.on_its_display() && (!outputs_ || outputs_->on_their_displays());
  live_.display_moves = window_.display_moves() + (outputs_ ? outputs_->display_moves() : 0);
  std::lock_guard lock(live_.display_mutex);
  live_.display_name = window_.display_name();
}

// A chord's action; false when the key is no chord.
bool RenderLoop::run_chord(Chord chord, bool& keep_running) {
  switch (chord) {
    case Chord::None:
      return false;
    case Chord::Quit:
      spdlog::info("display: quit by Ctrl+Alt+Q");
      keep_running = false;
      break;
    case Chord::Overlay:
      if (overlay_) overlay_->toggle();
      break;
    case Chord::Calibrate:
      if (calibration_) calibration_->toggle();
      break;
  }
  return true;
}

// The cursor follows kiosk mode, full-screen, the overlay and calibration; SDL is told only when
// that changes.
void RenderLoop::update_cursor(const KioskConfig& kiosk) {
  const bool wanted = cursor_wanted(kiosk, window_.fullscreen(), overlay_ && overlay_->visible(),
                                    calibration_ && calibration_->active());
  if (cursor_shown_ == wanted) return;
  SDL_ShowCursor(wanted ? SDL_ENABLE : SDL_DISABLE);
  cursor_shown_ = wanted;
}

bool RenderLoop::handle_events() {
  SDL_Event event;
  bool keep_running = true;
  const KioskConfig kiosk = config_.get()->kiosk;
  while (SDL_PollEvent(&event)) {
    track_window_state(event);
    if (overlay_ && overlay_->handle_event(event)) continue;
    if (event.type == SDL_KEYDOWN && run_chord(chord_for(event.key.keysym, kiosk), keep_running))
      continue;
    if (calibration_ && calibration_->handle_event(event, event_view(event))) continue;
    switch (event.type) {
      case SDL_QUIT:  // a window manager's close (SDL's signal handlers are not installed)
        if (window_close_quits(kiosk)) {
          spdlog::info("display: quit by closing the window");
          keep_running = false;
        } else {
          spdlog::info("display: a close of the window was ignored: kiosk mode ({})",
                       kiosk.chords ? "Ctrl+Alt+Q or a signal quits" : "a signal quits");
        }
        break;
      case SDL_KEYDOWN:
        if (!plain_keys_enabled(kiosk)) break;  // kiosk mode: plain keys do nothing
        switch (event.key.keysym.sym) {
          case SDLK_ESCAPE:
            spdlog::info("display: quit by Esc");
            keep_running = false;
            break;
          case SDLK_F1:
          case SDLK_TAB:
            if (overlay_) overlay_->toggle();
            break;
          case SDLK_F11:
            window_.toggle_fullscreen();
            break;
          case SDLK_c:
            if (calibration_) calibration_->toggle();
            break;
          default:
            if (actions_ && !event.key.repeat) key_runner_->press(*actions_, event.key.keysym.sym);
            break;
        }
        break;
      default:
        break;  // resizes are read fresh every frame
    }
  }
  follow_displays(std::exchange(displays_changed_, false));
  return keep_running;
}

bool RenderLoop::quit_requested() const {
  return commands_ && commands_->quit.load(std::memory_order_acquire) != 0;
}

bool RenderLoop::frozen() const {
  return commands_ && commands_->frozen.load(std::memory_order_acquire);
}

std::optional<CanvasCaptureStats> RenderLoop::capture_stats() const {
  if (!capture_) return std::nullopt;
  return capture_->stats();
}

void RenderLoop::watch_first_motion(std::optional<Image>& first, int w, int h) {
  if (!presenter_.stats().has_frame) return;
  Image now = read_framebuffer(w, h);
  if (!first || first->width != w || first->height != h) {
    first = std::move(now);
    return;
  }
  if (now.rgba == first->rgba) return;
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - kProcessStart).count();
  live_.first_motion_s = s;
  spdlog::info("display: first motion on screen {:.2f} s after start", s);
  first.reset();
}

// The window an event came from: its output and its size in SDL's window coordinates (what
// mouse events use). Events without a window (synthesised ones) count as the main window's.
EventView RenderLoop::event_view(const SDL_Event& event) const {
  std::uint32_t id = 0;
  if (event.type == SDL_KEYDOWN) id = event.key.windowID;
  if (event.type == SDL_MOUSEMOTION) id = event.motion.windowID;
  if (event.type == SDL_MOUSEBUTTONDOWN || event.type == SDL_MOUSEBUTTONUP)
    id = event.button.windowID;
  SDL_Window* window = id ? SDL_GetWindowFromID(id) : nullptr;
  EventView view;
  if (window == nullptr) window = window_.sdl();
  SDL_GetWindowSize(window, &view.width, &view.height);
  if (event.type != SDL_KEYDOWN) {
    view.output = 0;
    if (outputs_)
      if (const auto k = outputs_->output_of_window(SDL_GetWindowID(window)))
        view.output = static_cast<int>(*k);
  }
  return view;
}

void RenderLoop::set_calibration(Calibration* calibration) {
  calibration_ = calibration;
  if (!outputs_) return;
  if (!calibration) {
    outputs_->paint_canvas = nullptr;
    outputs_->output_marks = nullptr;
    return;
  }
  outputs_->paint_canvas = [calibration](int w, int h) {
    if (calibration->active()) calibration->draw_canvas(w, h);
  };
  outputs_->output_marks = [calibration](std::size_t k, int w, int h) {
    return calibration->output_marks(static_cast<int>(k), w, h);
  };
}

// The presenter's picture into the target the loop shows (the offscreen target when headless);
// returns the drawable size it was drawn at.
std::pair<int, int> RenderLoop::draw_picture(const Config& config) {
  // The schedule's light (its fade to black at closing), multiplied into every output.
  const double light = commands_ ? commands_->light.load(std::memory_order_relaxed) : 1.0;
  if (outputs_) return outputs_->draw(presenter_, config, light);
  int w, h;
  window_.drawable_size(w, h);
  if (offscreen_)
    offscreen_->bind();
  else
    DW_GL_CHECK(glBindFramebuffer(GL_FRAMEBUFFER, 0));
  presenter_.draw(w, h, config, DrawTweaks{light, true});
  if (calibration_ && calibration_->active()) calibration_->draw_preview(w, h);
  return {w, h};
}

// The canvas (before the overlay, and with outputs before their warps) to the recorder and
// screenshots, read back asynchronously (render/canvas_capture.h). The bindings are left as found.
void RenderLoop::capture_canvas(int w, int h, double dt) {
  if (!outputs_) {
    capture_->after_draw(w, h, dt);
    return;
  }
  GLint draw = 0, read = 0;
  glGetIntegerv(GL_DRAW_FRAMEBUFFER_BINDING, &draw);
  glGetIntegerv(GL_READ_FRAMEBUFFER_BINDING, &read);
  outputs_->canvas().bind();
  capture_->after_draw(outputs_->canvas().width(), outputs_->canvas().height(), dt);
  DW_GL_CHECK(glBindFramebuffer(GL_DRAW_FRAMEBUFFER, static_cast<GLuint>(draw)));
  DW_GL_CHECK(glBindFramebuffer(GL_READ_FRAMEBUFFER, static_cast<GLuint>(read)));
}

void RenderLoop::capture_last(int w, int h) {
  if (outputs_) {
    last_output_images_ = outputs_->capture();
    last_canvas_image_ = outputs_->capture_canvas();
  }
  last_image_ = read_framebuffer(w, h);
}

void RenderLoop::turn_failed(const std::exception& e) {
  ++failed_turns_;
  const std::uint64_t total = ++live_.failed_turns;
  if (total <= 20 || total % 1000 == 0)
    spdlog::error("render: a frame failed ({}); the last picture stays ({} failed so far)",
                  e.what(), total);
  if (failed_turns_ >= kMaxFailedTurnsInARow)
    throw Error(
        fmt::format("render: {} frames in a row failed; last: {}", failed_turns_, e.what()));
  std::this_thread::sleep_for(std::chrono::milliseconds(10));  // no spinning on a fault
}

void RenderLoop::check_reset(const RenderLoopOptions& options) const {
  const unsigned status = options.reset_status ? options.reset_status() : window_.reset_status();
  if (status == GL_NO_ERROR) return;
  throw Error(fmt::format(
      "render: the GPU was reset ({}) and the OpenGL context is lost: nothing drawn would show; "
      "the program ends for its service manager to start it again",
      describe_gl_reset(static_cast<GLenum>(status))));
}

std::uint64_t RenderLoop::run(const RenderLoopOptions& options, const std::atomic<bool>& quit,
                              const ModelFiller& fill_model) {
  using clock = std::chrono::steady_clock;
  auto previous = clock::now();
  auto last_model = previous - std::chrono::hours(1);
  OverlayModel model;
  std::uint64_t presented = 0;
  std::uint64_t shown_before = presenter_.stats().content_frames_shown;
  const auto started = previous;
  // Headless runs show what a viewer would see once there is a picture: the frames before the
  // first content frame (an empty screen while the first keyframe is made) are not counted.
  bool counting = !window_.headless();
  std::optional<Image> first_picture;  // headless: to time the first presented change
  commands_ = options.commands;
  actions_ = options.actions;
  if (actions_ && !key_runner_) key_runner_ = std::make_unique<KeyActionRunner>();
  if (options.canvas_sink) capture_.emplace(*options.canvas_sink);
  while (!quit.load(std::memory_order_relaxed) && !quit_requested()) {
    check_reset(options);  // outside the turn's catch: a lost context is no passing fault
    try {
      if (calibration_) calibration_->apply_requests();  // the "calibrate" action
      if (!handle_events()) break;
      // With projector outputs of its own the picture goes on: a minimised control window must
      // not freeze every projector (output 1 is the main window's, so more than one).
      const bool feeds_outputs = outputs_ != nullptr && outputs_->count() > 1;
      if (minimised_ && !feeds_outputs) {
        // Sleep until something happens (at most 100 ms, so a signal's quit flag is seen); the
        // content clock does not see the time spent here.
        SDL_WaitEventTimeout(nullptr, 100);
        ++minimised_waits_;
        previous = clock::now();
        continue;
      }
      const auto config = config_.get();
      if (!window_.headless()) window_.set_vsync(config->display.vsync);  // live toggle
      update_cursor(config->kiosk);

      // Headless, the content clock sees a simulated display at headless_fps, so a run of N frames
      // shows N refreshes' worth of content however fast the machine renders them.
      if (window_.headless() && config->display.headless_paced)
        std::this_thread::sleep_until(
            previous + std::chrono::duration<double>(1.0 / config->display.headless_fps));
      // A window hidden while its display is away, or minimised while it feeds outputs, has no
      // refresh to wait for in its swap: without this the loop (and the output threads it feeds)
      // would spin flat out for as long as the projector is unplugged, a core and the GPU busy for
      // nothing.
      if (!window_.headless() && (window_.hidden() || minimised_))
        std::this_thread::sleep_until(
            previous + std::chrono::duration<double, std::milli>(window_.refresh_ms()));
      const auto now = clock::now();
      const double dt = std::chrono::duration<double>(now - previous).count();
      previous = now;
      if (!frozen())
        presenter_.update(window_.headless() ? 1.0 / config->display.headless_fps : dt, *config);
      if (!counting) {
        counting = presenter_.stats().has_frame ||
                   std::chrono::duration<double>(now - started).count() > options.startup_timeout_s;
        if (!counting) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));  // nothing to show yet
          continue;
        }
        stats_ = FrameStats{};
      }

      const auto [w, h] = draw_picture(*config);
      if (capture_)
        capture_canvas(w, h, window_.headless() ? 1 / config->display.headless_fps : dt);
      const bool last =
          options.frames > 0 && presented + 1 >= static_cast<std::uint64_t>(options.frames);
      if (options.capture_last && last) capture_last(w, h);
      if (offscreen_ && live_.first_motion_s.load() < 0) watch_first_motion(first_picture, w, h);

      if (overlay_) {
        if (overlay_->visible() &&
            std::chrono::duration<double>(now - last_model).count() > kModelRefreshSeconds) {
          model = OverlayModel{};
          model.frames = stats_.summary();
          model.frame_times = stats_.recent();
          if (fill_model) fill_model(model);
          model.key_hint = key_hint(config->kiosk, calibration_ != nullptr, actions_ != nullptr);
          last_model = now;
        }
        // What the state line says first comes from the commands every frame, so a key's effect
        // shows at once.
        if (commands_) {
          model.state.paused = commands_->generation_paused();
          model.state.frozen = commands_->frozen.load(std::memory_order_acquire);
          model.state.recording = commands_->recording.load(std::memory_order_acquire);
        }
        model.ring_depth = ring_depth_();
        model.ring_capacity = ring_capacity_;
        model.presenter = presenter_.stats();
        overlay_->draw(model);
      }
      if (options.capture_last_overlay && last) last_overlay_image_ = read_framebuffer(w, h);
      window_.swap();
      failed_turns_ = 0;
      // Offscreen there is no vsync to bound the driver's queue: without a finish a flat-out
      // headless loop queues frames faster than a software renderer draws them (the frame times
      // lie, and tearing the context down waits for the whole backlog).
      if (offscreen_) DW_GL_CHECK(glFinish());
      ++presented;

      const PresenterStats& ps = presenter_.stats();
      const std::uint64_t shown = ps.content_frames_shown - shown_before;
      shown_before = ps.content_frames_shown;
      stats_.add(dt * 1000.0, window_.headless() ? 0.0 : window_.refresh_ms(), shown);
      if (presented % 30 == 0 || last) {
        const FrameTimeSummary s = stats_.summary();
        live_.fps = s.fps;
        live_.p50_ms = s.p50_ms;
        live_.p99_ms = s.p99_ms;
        live_.content_fps = s.content_fps;
        live_.late = s.late;
      }
      live_.frames = presented;
      live_.content_frames = ps.content_frames_shown;
      live_.content_uploads = ps.content_uploads;
      live_.sequence = ps.current_sequence;
      live_.keyframe = ps.current_keyframe;
      live_.idle = ps.idle;
      live_.idle_spells = ps.idle_spells;
      live_.rate_factor = ps.rate_factor;
      live_.supply_fps = ps.supply_fps;
      if (last) break;
    } catch (const std::exception& e) {
      // One bad turn (an upload the driver refused, a canvas it could not resize) leaves the
      // last picture on screen and the loop goes on; only a failure that never clears ends it,
      // for the service manager to restart the program.
      turn_failed(e);
      previous = clock::now();
    }
  }
  if (capture_) capture_->flush();
  // The keys' actions use options.actions, which the caller may drop once run returns.
  if (key_runner_ && !key_runner_->wait_idle(std::chrono::seconds(2)))
    spdlog::warn("display: a key's action has not finished after 2 s (a slow disk?)");
  // Ended early (SIGTERM, window closed): the screenshot is of the frame shown last.
  if (options.capture_last && !last_image_ && presented > 0) {
    const auto [w, h] = draw_picture(*config_.get());
    capture_last(w, h);
  }
  return presented;
}

}  // namespace dw::render
