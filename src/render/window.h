// The SDL2 window and its OpenGL 3.3 core context: windowed, borderless full-screen or exclusive
// full-screen on a chosen display, vsync, cursor hidden in full-screen, the screen kept awake, no
// minimising on focus loss. Headless: a hidden window of SDL's offscreen EGL driver (no X server;
// render/offscreen.h) whose context renders into an offscreen framebuffer. Main thread only, except
// that the thread which has the context current (an output's thread, render/output_thread.h) may
// call set_vsync, swap and drawable_size.
#pragma once

#include <SDL.h>

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

// How a window is made beyond its DisplayConfig (the outputs' extra windows use these).
struct WindowOptions {
  // Names the display setting in the error for a display that does not exist.
  std::string display_setting = "display.index";
  // Share the current context's textures and programs (SDL_GL_SHARE_WITH_CURRENT_CONTEXT): an
  // output's window draws the main window's canvas texture without a copy.
  bool share_with_current = false;
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
  void swap();
  // Makes this window's context current (windows with several contexts switch between them).
  void make_current() const;

 private:
  SDL_Window* window_ = nullptr;
  SDL_GLContext context_ = nullptr;
  bool headless_ = false;
  int headless_w_ = 0, headless_h_ = 0;
  int vsync_ = -1;  // as last asked
  bool vsync_applied_ = false;
};

}  // namespace dw::render
