#include "render/window.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <link.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "render/gl.h"
#include "render/gl_reset.h"
#include "render/offscreen.h"

namespace dw::render {

namespace {

// Under AddressSanitizer only: keeps the Mesa driver (`*_dri.so`) loaded until exit. EGL unloads
// it when the display goes, and a one-time allocation of its initialisation (128 bytes per load)
// is then reported by LeakSanitizer from an "<unknown module>" that no suppression can name. Pinned
// (RTLD_NOLOAD | RTLD_NODELETE on the loaded driver), the report names the driver and
// tools/lsan.supp suppresses it like the other system libraries' leaks. No effect otherwise.
void pin_gl_driver_for_leak_reports() {
#if defined(__SANITIZE_ADDRESS__)
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void*) -> int {
        const std::string_view name = info->dlpi_name ? info->dlpi_name : "";
        if (name.find("_dri.so") != std::string_view::npos)
          dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        return 0;
      },
      nullptr);
#endif
}

}  // namespace

namespace {

void init_video() {
  if (SDL_WasInit(SDL_INIT_VIDEO)) return;
  // Before SDL_Init: full-screen art should not minimise when another window takes focus.
  SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
  // Signals are the app's (its quit flag): SDL_QUIT then means only a window manager's close,
  // which kiosk mode ignores.
  SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
  SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
  if (SDL_InitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0)
    throw Error(fmt::format(
        "cannot open a display ({}). On a machine without a screen run headless (no X server "
        "needed): dreamwindow --headless --frames 600 --screenshot shot.png",
        SDL_GetError()));
}

std::vector<DisplayInfo> enumerate_displays() {
  init_video();
  std::vector<DisplayInfo> out;
  const int n = SDL_GetNumVideoDisplays();
  for (int i = 0; i < n; ++i) {
    DisplayInfo d;
    d.index = i;
    const char* name = SDL_GetDisplayName(i);
    d.name = name ? name : "display";
    SDL_Rect r{};
    SDL_GetDisplayBounds(i, &r);
    d.x = r.x;
    d.y = r.y;
    d.width = r.w;
    d.height = r.h;
    SDL_DisplayMode mode{};
    if (SDL_GetDesktopDisplayMode(i, &mode) == 0) d.refresh_hz = mode.refresh_rate;
    out.push_back(d);
  }
  return out;
}

}  // namespace

namespace {

// Without a screen SDL falls back to drivers whose one "display" is made up: a window there
// shows nothing while every frame counts as presented (and the service manager hears that all
// is well), so it is refused.
void refuse_a_made_up_display() {
  const std::string driver = SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "";
  if (driver == "offscreen" || driver == "dummy") {
    const char* x11 = std::getenv("DISPLAY");
    const char* wayland = std::getenv("WAYLAND_DISPLAY");
    throw Error(fmt::format(
        "no display found: SDL fell back to its '{}' video driver, which has no real screen "
        "(DISPLAY={}, WAYLAND_DISPLAY={}; an X server refusing this user's XAUTHORITY looks the "
        "same). Headless runs need none: dreamwindow --headless",
        driver, x11 ? x11 : "(unset)", wayland ? wayland : "(unset)"));
  }
}

}  // namespace

std::vector<DisplayInfo> list_displays() {
  init_video();
  refuse_a_made_up_display();
  return enumerate_displays();
}

std::optional<int> find_display(const std::vector<DisplayInfo>& displays,
                                const DisplayTarget& target) {
  if (target.name.empty()) {  // never seen: the configured index, once there is one
    if (target.index >= 0 && target.index < static_cast<int>(displays.size())) return target.index;
    return std::nullopt;
  }
  std::optional<int> named;
  int named_count = 0;
  for (const DisplayInfo& d : displays) {
    if (d.name != target.name) continue;
    if (d.x == target.x && d.y == target.y) return d.index;
    named = d.index;
    ++named_count;
  }
  if (target.unique_name && named_count == 1) return named;
  return std::nullopt;
}

DisplayTarget target_of(const std::vector<DisplayInfo>& displays, int index) {
  const DisplayInfo& own = displays.at(index);
  DisplayTarget t{own.name, true, own.x, own.y, index};
  for (const DisplayInfo& d : displays)
    if (d.index != own.index && d.name == own.name) t.unique_name = false;
  return t;
}

std::string describe_displays(const std::vector<DisplayInfo>& displays) {
  std::string out;
  for (const DisplayInfo& d : displays)
    out += fmt::format("{}: {} {}x{} at ({}, {}){}\n", d.index, d.name, d.width, d.height, d.x, d.y,
                       d.refresh_hz ? fmt::format(", {} Hz", d.refresh_hz) : "");
  return out;
}

Window::Window(const DisplayConfig& config, bool headless, const WindowOptions& options)
    : headless_(headless), hide_while_away_(options.hide_while_away) {
  if (headless) prefer_headless_video_driver();
  init_video();
  if (!headless) refuse_a_made_up_display();
  const int displays = SDL_GetNumVideoDisplays();
  const bool full = !headless && config.mode != DisplayMode::Windowed;
  int open_on = config.display_index;
  if (config.display_index >= displays) {
    const std::string what =
        fmt::format("{} = {} but this machine has {} display(s):\n{}", options.display_setting,
                    config.display_index, displays, describe_displays(enumerate_displays()));
    if (!full || !options.wait_for_display || displays < 1) throw InputError(what);
    // A projector switched on after the computer: show on the first display until it is there,
    // or nowhere.
    spdlog::warn(
        "{}{} until display {} is there", what,
        options.hide_while_away ? "the window stays hidden" : "the picture shows on display 0",
        config.display_index);
    hidden_ = options.hide_while_away;
    open_on = 0;
    target_ = DisplayTarget{"", true, 0, 0, config.display_index};
    lost_ = true;
  }
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
  SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
  SDL_GL_SetAttribute(SDL_GL_DEPTH_SIZE, 0);
  SDL_GL_SetAttribute(SDL_GL_STENCIL_SIZE, 0);
  // Checked builds ask for a debug context so the driver reports through KHR_debug.
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, DW_GL_CHECKS ? SDL_GL_CONTEXT_DEBUG_FLAG : 0);
  SDL_GL_SetAttribute(SDL_GL_SHARE_WITH_CURRENT_CONTEXT, options.share_with_current ? 1 : 0);

  Uint32 flags = SDL_WINDOW_OPENGL | SDL_WINDOW_ALLOW_HIGHDPI;
  if (headless || hidden_) flags |= SDL_WINDOW_HIDDEN;
  if (!headless)
    flags |= config.mode == DisplayMode::Borderless   ? SDL_WINDOW_FULLSCREEN_DESKTOP
             : config.mode == DisplayMode::Fullscreen ? SDL_WINDOW_FULLSCREEN
                                                      : SDL_WINDOW_RESIZABLE;
  int w = config.width, h = config.height;
  if (full) {
    SDL_DisplayMode mode{};
    if (SDL_GetDesktopDisplayMode(open_on, &mode) == 0) {
      w = mode.w;
      h = mode.h;
    }
  }
  fullscreen_flag_ = flags & (SDL_WINDOW_FULLSCREEN | SDL_WINDOW_FULLSCREEN_DESKTOP);
  if (!headless && !lost_) target_ = target_of(enumerate_displays(), config.display_index);
  const int pos = SDL_WINDOWPOS_CENTERED_DISPLAY(open_on);
  window_ = SDL_CreateWindow("dreamwindow", pos, pos, w, h, flags);
  if (!window_) throw Error(fmt::format("cannot create the window: {}", SDL_GetError()));
  // A GPU reset should end the run rather than leave a dead context presenting nothing
  // (render/gl_reset.h); a driver that cannot make such a context gets a plain one.
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_RESET_NOTIFICATION, SDL_GL_CONTEXT_RESET_LOSE_CONTEXT);
  context_ = SDL_GL_CreateContext(window_);
  if (!context_) {
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_RESET_NOTIFICATION, SDL_GL_CONTEXT_RESET_NO_NOTIFICATION);
    context_ = SDL_GL_CreateContext(window_);
  }
  if (!context_) {
    const std::string why = SDL_GetError();
    SDL_DestroyWindow(window_);
    throw Error(fmt::format("cannot create an OpenGL 3.3 core context: {}{}", why,
                            headless ? " (headless runs use SDL's offscreen EGL driver; "
                                       "SDL_VIDEODRIVER=x11 under Xvfb is the alternative)"
                                     : ""));
  }
  SDL_GL_MakeCurrent(window_, context_);
  resets_reported_ = gl_context_reports_resets();
  pin_gl_driver_for_leak_reports();
  enable_gl_debug_output();
  if (headless) {
    headless_w_ = config.width;
    headless_h_ = config.height;
  }
  if (!headless) set_vsync(config.vsync);  // headless draws offscreen: no swap to wait for
  SDL_DisableScreenSaver();                // an art display must never blank
  if (fullscreen()) SDL_ShowCursor(SDL_DISABLE);
  spdlog::info("render: {} on '{}' (SDL video driver '{}'), OpenGL {} ({}); GPU resets {}",
               headless ? "headless" : "window", SDL_GetDisplayName(open_on),
               SDL_GetCurrentVideoDriver(), reinterpret_cast<const char*>(glGetString(GL_VERSION)),
               reinterpret_cast<const char*>(glGetString(GL_RENDERER)),
               resets_reported_ ? "are reported" : "are not reported by this driver");
}

Window::~Window() {
  if (context_) SDL_GL_DeleteContext(context_);
  if (window_) SDL_DestroyWindow(window_);
  SDL_EnableScreenSaver();
}

bool Window::fullscreen() const {
  return !headless_ && (SDL_GetWindowFlags(window_) & SDL_WINDOW_FULLSCREEN) != 0;
}

void Window::drawable_size(int& w, int& h) const {
  if (headless_) {
    w = headless_w_;
    h = headless_h_;
    return;
  }
  SDL_GL_GetDrawableSize(window_, &w, &h);
}

double Window::refresh_ms() const {
  SDL_DisplayMode mode{};
  const int index = SDL_GetWindowDisplayIndex(window_);
  if (!headless_ && index >= 0 && SDL_GetCurrentDisplayMode(index, &mode) == 0 &&
      mode.refresh_rate > 0)
    return 1000.0 / mode.refresh_rate;
  return 1000.0 / 60.0;
}

bool Window::set_vsync(bool on) {
  const int want = on ? 1 : 0;
  if (want == vsync_) return vsync_applied_;
  vsync_applied_ = SDL_GL_SetSwapInterval(want) == 0;
  if (!vsync_applied_)
    spdlog::warn("render: cannot {} vsync: {}", on ? "enable" : "disable", SDL_GetError());
  vsync_ = want;
  return vsync_applied_;
}

void Window::toggle_fullscreen() {
  if (headless_) return;
  const bool full = fullscreen();
  SDL_SetWindowFullscreen(window_, full ? 0 : SDL_WINDOW_FULLSCREEN_DESKTOP);
  SDL_ShowCursor(full ? SDL_ENABLE : SDL_DISABLE);
}

bool Window::follow_display() {
  if (headless_ || fullscreen_flag_ == 0) return false;
  const std::vector<DisplayInfo> displays = enumerate_displays();
  const std::optional<int> found = find_display(displays, target_);
  if (!found) {
    if (!lost_.exchange(true))
      spdlog::warn("render: display '{}' is gone; the window {} when it returns", target_.name,
                   hide_while_away_ ? "hides, and goes back onto it" : "goes back onto it");
    if (hide_while_away_ && !std::exchange(hidden_, true)) SDL_HideWindow(window_);
    return false;
  }
  const DisplayInfo& d = displays[*found];
  if (target_.name.empty()) target_ = target_of(displays, d.index);  // first seen now
  const bool was_lost = lost_.exchange(false);
  // The operator may have made it a window (F11): then it stays put.
  const bool moved = fullscreen() && place_on(d, was_lost);
  // One hidden while its display was away is shown once it is on it: never over display 0's.
  if (std::exchange(hidden_, false)) SDL_ShowWindow(window_);
  return moved;
}

bool Window::place_on(const DisplayInfo& d, bool was_lost) {
  int x = 0, y = 0, w = 0, h = 0;
  SDL_GetWindowPosition(window_, &x, &y);
  SDL_GetWindowSize(window_, &w, &h);
  if (SDL_GetWindowDisplayIndex(window_) == d.index && x == d.x && y == d.y && w == d.width &&
      h == d.height) {
    if (was_lost) spdlog::info("render: display '{}' is back, and the window is on it", d.name);
    return false;
  }
  // Out of full-screen, onto the display at its size, and full-screen again: SDL (and the window
  // manager) take a full-screen window's display from where the window is.
  SDL_SetWindowFullscreen(window_, 0);
  SDL_SetWindowPosition(window_, d.x, d.y);
  SDL_SetWindowSize(window_, d.width, d.height);
  if (fullscreen_flag_ == SDL_WINDOW_FULLSCREEN) {
    SDL_DisplayMode mode{};
    if (SDL_GetDesktopDisplayMode(d.index, &mode) == 0) SDL_SetWindowDisplayMode(window_, &mode);
  }
  SDL_SetWindowFullscreen(window_, fullscreen_flag_);
  ++display_moves_;
  spdlog::info("render: display '{}' is there ({}x{} at ({}, {})); the window goes onto it", d.name,
               d.width, d.height, d.x, d.y);
  return true;
}

std::string Window::display_name() const {
  if (headless_) return "headless";
  const char* name = SDL_GetDisplayName(SDL_GetWindowDisplayIndex(window_));
  return name ? name : "";
}

unsigned Window::reset_status() const {
  return resets_reported_ ? gl_reset_status() : GL_NO_ERROR;
}

void Window::swap() {
  SDL_GL_SwapWindow(window_);
}

void Window::make_current() const {
  if (SDL_GL_GetCurrentContext() != context_) SDL_GL_MakeCurrent(window_, context_);
}

}  // namespace dw::render
