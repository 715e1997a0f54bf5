// The SDL2 window and its OpenGL 3.3 core context: windowed, borderless full-screen or exclusive
// full-screen on a chosen display, vsync, cursor hidden in full-screen, the screen kept awake, no
// minimising on focus loss. Headless: a hidden window of SDL's offscreen EGL driver (no X server;
// render/offscreen.h) whose context renders into an offscreen framebuffer. Main thread only, except
// that the thread which has the context current (an output's thread, render/output_thread.h) may
// call set_vsync, swap and drawable_size.
#pragma once

#include <SDL.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"

namespace dw::render {

struct DisplayInfo {
  int index = 0;
  std::string name;
  int x = 0, y = 0, width = 0, height = 0;
  int refresh_hz = 0;
};

// Initialises SDL's video subsystem if needed and lists the displays. Throws dw::Error with SDL's
// reason when there is no video device (no X server and no Wayland), and when SDL could only fall
// back to its offscreen or dummy driver (whose display is not a screen).
std::vector<DisplayInfo> list_displays();
std::string describe_displays(const std::vector<DisplayInfo>& displays);

// The display a full-screen window belongs on, as it was when the window opened: its name (what
// --list-displays prints), whether that name was the only one of its kind, and its origin. A
// display that was not there at the start has no name yet: its configured index stands for it.
struct DisplayTarget {
  std::string name;
  bool unique_name = true;
  int x = 0, y = 0;
  int index = 0;
};
// Where that display is now among `displays`: the one with its name at its origin, else the one
// with its name if the name was and is unique; nothing when it is gone (switched off, unplugged).
// Two projectors of one model share a name: then only the origin tells them apart.
std::optional<int> find_display(const std::vector<DisplayInfo>& displays,
                                const DisplayTarget& target);
// The target for display `index` of `displays`.
DisplayTarget target_of(const std::vector<DisplayInfo>& displays, int index);

// How a window is made beyond its DisplayConfig (the outputs' extra windows use these).
struct WindowOptions {
  // Names the display setting in the error for a display that does not exist.
  std::string display_setting = "display.index";
  // Share the current context's textures and programs (SDL_GL_SHARE_WITH_CURRENT_CONTEXT): an
  // output's window draws the main window's canvas texture without a copy.
  bool share_with_current = false;
  // A full-screen window whose display is not there yet opens on display 0 and goes onto its own
  // display when that appears (a projector switched on after the computer), instead of refusing
  // the start. Only where nothing else is on display 0 (the single window, output 1), unless
  // hidden while it waits.
  bool wait_for_display = false;
  // A full-screen window whose display is not there, at the start or since it went, stays hidden
  // until it is (an [[output]] after the first: on display 0, where the desktop would put it, its
  // picture would cover output 1's).
  bool hide_while_away = false;
};

class Window {
 public:
  Window(const DisplayConfig& config, bool headless, const WindowOptions& options = {});
  ~Window();
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  SDL_Window* sdl() const { return window_; }
  SDL_GLContext gl_context() const { return context_; }
  bool headless() const { return headless_; }
  bool fullscreen() const;
  // The size in pixels of what is drawn (the drawable, or the headless framebuffer).
  void drawable_size(int& w, int& h) const;
  // The refresh interval of the display the window is on (16.7 ms when unknown or headless).
  double refresh_ms() const;
  // Asks the driver for vsync on or off (this window's context must be current); false when it
  // refused (warned once per change).
  bool set_vsync(bool on);
  void toggle_fullscreen();
  // A full-screen window stays on its display. A projector switched off and on again, or a cable
  // pulled and put back, takes the display away and brings it back (the window manager may move
  // the window elsewhere meanwhile, and the display may come back at another size): once SDL
  // lists the display again the window goes back onto it and fills it; one that was not there at
  // the start (wait_for_display) is gone to, and shown if it waited hidden, when it first
  // appears. Main thread only; call it on
  // SDL_DISPLAYEVENT (never on a timer: while SDL still lists a display whose output was only
  // switched off, it would fight the window manager). True when it moved the window. Windowed
  // windows (and F11 to windowed) and headless ones stay where they are.
  bool follow_display();
  // The name of the display the window is on now ("headless" for a headless one), whether its
  // own display is there (as last followed), and how often follow_display moved it back.
  std::string display_name() const;
  bool on_its_display() const { return !lost_.load(std::memory_order_relaxed); }
  // Hidden while its display is away (WindowOptions::hide_while_away): its swaps wait for no
  // display's refresh, so whoever draws it paces itself (RenderLoop does).
  bool hidden() const { return hidden_; }
  std::uint64_t display_moves() const { return display_moves_; }
  void swap();
  // Whether this window's context reports GPU resets (render/gl_reset.h), and its reset status
  // (GL_NO_ERROR where it does not report them). Its context must be current.
  bool resets_reported() const { return resets_reported_; }
  unsigned reset_status() const;  // a GLenum
  // Makes this window's context current (windows with several contexts switch between them).
  void make_current() const;

 private:
  // Puts the full-screen window onto display `d`, filling it; false when it already was there.
  bool place_on(const DisplayInfo& d, bool was_lost);

  SDL_Window* window_ = nullptr;
  SDL_GLContext context_ = nullptr;
  bool headless_ = false;
  int headless_w_ = 0, headless_h_ = 0;
  int vsync_ = -1;  // as last asked
  bool vsync_applied_ = false;
  Uint32 fullscreen_flag_ = 0;  // SDL_WINDOW_FULLSCREEN(_DESKTOP) as opened; 0 windowed
  DisplayTarget target_;
  // Its display is gone (or not there yet). Written on the main thread, read by status too.
  std::atomic<bool> lost_{false};
  bool hide_while_away_ = false;
  bool hidden_ = false;  // hidden while its display is not there
  std::uint64_t display_moves_ = 0;
  bool resets_reported_ = false;
};

}  // namespace dw::render
