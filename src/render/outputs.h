// The canvas and its outputs on the GPU. The presenter draws the content once per display frame
// into the canvas (a framebuffer texture, RGBA16F so that the outputs' gamma and blending do not
// quantise twice); each output then draws the canvas through its warp, blend and light
// (render/output_pass.h) into its own window, or into its own offscreen target when headless.
//
// Several displays: one window per output, each with its own OpenGL context created with
// SDL_GL_SHARE_WITH_CURRENT_CONTEXT from the main window's, so the canvas texture (and the
// presenter's textures, where CUDA-GL interop writes) are shared, never copied: one upload per
// content frame however many outputs there are. All contexts are driven from the main thread; a
// fence after the canvas pass orders the other contexts' reads after it. Output 1 waits for vsync;
// the others swap without waiting, so no display's refresh stalls the loop, unless
// canvas.vsync_matched asks those at output 1's rate to wait too (output_waits_for_vsync; see
// docs/architecture.md, Outputs). Main thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/image.h"
#include "render/gl.h"
#include "render/offscreen.h"
#include "render/output_pass.h"
#include "render/presenter.h"
#include "render/window.h"

namespace dw::render {

// The display config the main window opens with: output 1's display, mode and size when
// [[output]]s are given, else display.* unchanged.
DisplayConfig main_window_config(const Config& config);
// Its window options: a missing display is named "output 1: display" when outputs are given.
WindowOptions main_window_options(const Config& config);

// Whether an output window (outputs 2..) waits for vsync, as the main window does when `vsync`
// (display.vsync) is on. With `matched` (canvas.vsync_matched), one at the main display's refresh
// rate (within 2 %: 59.94 Hz is 60 Hz) does: where the driver queues swaps, one loop iteration's
// swaps then complete at the same vblank and matched projectors are all tear-free (a driver that
// blocks in every swap halves the rate instead, hence the setting). At another rate, or without
// `matched`, it does not: it swaps at once, never holding the loop to its display, and may tear.
bool output_waits_for_vsync(double output_refresh_ms, double main_refresh_ms, bool vsync,
                            bool matched);

// The canvas framebuffer: RGBA16F, linear filtering, storage reallocated only on a size change.
class Canvas {
 public:
  Canvas();
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;
  void ensure(int width, int height);
  void bind() const;
  GLuint texture() const { return texture_; }
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  GLuint framebuffer_ = 0, texture_ = 0;
  int width_ = 0, height_ = 0;
};

class Outputs {
 public:
  // Opens a window for every output after the first (output 1 is `main`'s window); headless,
  // every output draws into an offscreen target of its size instead. Throws dw::InputError naming
  // the output for a display that does not exist or a mask of the wrong size.
  Outputs(Window& main, const Config& config, bool headless);
  ~Outputs();
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;

  // Draws the presenter into the canvas, then every output, following live changes of the
  // outputs in `config` (same count; calibration edits them so). Leaves the main context current
  // with output 1's target bound (for the overlay and read-backs); returns output 1's size.
  std::pair<int, int> draw(Presenter& presenter, const Config& config, double light);
  // Presents outputs 2 and later (output 1 is the main window's own swap), each waiting for vsync
  // or not as output_waits_for_vsync says for display.vsync and canvas.vsync_matched (live).
  void swap_others(const Config& config);
  // Each output's picture as drawn last (before the swap), and the canvas.
  std::vector<Image> capture();
  Image capture_canvas();
  std::size_t count() const { return targets_.size(); }
  // Calibration (render/calibration.h) paints over the canvas after the presenter, and over each
  // output's target after its pass (index, width, height); empty: nothing.
  std::function<void(int, int)> paint_canvas;
  std::function<void(std::size_t, int, int)> paint_output;
  // The output whose window has this SDL window id (0 for the main window's), or nothing.
  std::optional<std::size_t> output_of_window(std::uint32_t window_id) const;
  const Canvas& canvas() const { return canvas_; }

 private:
  struct Target {
    std::unique_ptr<Window> window;  // outputs 2.. in a window (null: the main window / headless)
    std::unique_ptr<Offscreen> offscreen;  // headless
    std::unique_ptr<OutputPass> pass;
    OutputConfig requested;  // what the config last asked for (the pass may run an older one)
    std::optional<bool> waits_for_vsync;  // as last set (logged when it changes)
  };
  void bind_target(std::size_t i);
  std::pair<int, int> target_size(std::size_t i) const;
  void follow(std::size_t i, const Config& config);

  Window& main_;
  bool headless_;
  std::unique_ptr<ShaderProgram> program_;
  Canvas canvas_;
  std::vector<Target> targets_;
  int canvas_w_ = 0, canvas_h_ = 0;  // canvas.width / height (0: the content's size)
};

}  // namespace dw::render
