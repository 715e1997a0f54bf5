// The canvas and its outputs on the GPU. The presenter draws the content once per display frame
// into the canvas (a framebuffer texture, RGBA16F so that the outputs' gamma and blending do not
// quantise twice); each output then draws the canvas through its warp, blend and light
// (render/output_pass.h) into its own window, or into its own offscreen target when headless.
//
// Several displays: one window per output, each with its own OpenGL context created with
// SDL_GL_SHARE_WITH_CURRENT_CONTEXT from the main window's, so the canvas textures (and the
// presenter's textures, where CUDA-GL interop writes) are shared, never copied: one upload per
// content frame however many outputs there are. Output 1 is the main window, drawn by the main
// loop; every other window is drawn by a thread of its own (render/output_thread.h) that waits
// for its own display's vsync, so each display runs at its own refresh and none holds the loop.
// The canvases between the threads are render/canvas_slots.h. Headless, every output draws into
// an offscreen target on the main thread. The interface is the main thread's (see
// docs/architecture.md, Outputs).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/image.h"
#include "render/canvas_slots.h"
#include "render/gl.h"
#include "render/marks.h"
#include "render/offscreen.h"
#include "render/output_pass.h"
#include "render/output_thread.h"
#include "render/presenter.h"
#include "render/window.h"

namespace dw::render {

// The display config the main window opens with: output 1's display, mode and size when
// [[output]]s are given, else display.* unchanged.
DisplayConfig main_window_config(const Config& config);
// Its window options: a missing display is named "output 1: display" when outputs are given, and
// is waited for on display 0 unless another output is there.
WindowOptions main_window_options(const Config& config);

class Outputs {
 public:
  // Opens a window for every output after the first (output 1 is `main`'s window); headless,
  // every output draws into an offscreen target of its size instead. A full-screen output whose
  // display is not there yet (a projector switched on later) waits hidden and goes onto it when
  // it appears; throws dw::InputError naming the output for a windowed one's missing display, or
  // a mask of the wrong size.
  Outputs(Window& main, const Config& config, bool headless);
  ~Outputs();
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;

  // Draws the presenter into a canvas and publishes it, hands every output thread its order, and
  // draws the outputs on the main thread, following live changes of the outputs in `config`
  // (same count; calibration edits them so). Leaves the main context current with output 1's
  // target bound (for the overlay and read-backs); returns output 1's size.
  std::pair<int, int> draw(Presenter& presenter, const Config& config, double light);
  // Each output's picture (output 1's and the offscreen ones as drawn last, before the swap; a
  // window's as its thread draws it next, from the latest canvas; black if it drew nothing in
  // 5 s), and the canvas.
  std::vector<Image> capture();
  Image capture_canvas();
  std::size_t count() const { return targets_.size(); }
  // Calibration (render/calibration.h) paints over the canvas after the presenter, and gives the
  // marks over each output's target (index, width, height) after its pass; empty: nothing.
  std::function<void(int, int)> paint_canvas;
  std::function<CalibrationMarks(std::size_t, int, int)> output_marks;
  // Per output, from any thread: frames presented, canvases skipped and the rate (outputs drawn
  // on the main thread: every canvas, none skipped, and fps 0: the loop's rate is theirs), and
  // whether its window is on its own display (headless: always).
  std::vector<OutputThreadStats> stats() const;
  // Test hook: the thread of output `index` (a window's, from 1), or null.
  OutputThread* thread(std::size_t index) { return targets_[index].thread.get(); }
  // The output whose window has this SDL window id (0 for the main window's), or nothing.
  std::optional<std::size_t> output_of_window(std::uint32_t window_id) const;
  // Every output window follows its display (Window::follow_display); main thread.
  void follow_displays();
  // Whether every output window is on its own display (a missing one's waits hidden), and how
  // often they were moved onto them; output 1 is the main window's, not counted here.
  bool on_their_displays() const;
  std::uint64_t display_moves() const;
  // The canvas last drawn.
  const Canvas& canvas() const { return canvases_->current(); }

 private:
  struct Target {
    std::unique_ptr<Window> window;  // outputs 2.. in a window (null: the main window / headless)
    std::unique_ptr<Offscreen> offscreen;  // headless
    std::unique_ptr<OutputThread> thread;  // a window's: it draws the output
    // Drawn on the main thread (output 1, the offscreen ones):
    std::unique_ptr<OutputPass> pass;
    std::unique_ptr<MarksPainter> painter;
    OutputConfig requested;  // what the config last asked for (the pass may run an older one)
  };
  // The constructor's work; close() undoes what it did, also when it threw half-way.
  void open(const Config& config, bool headless);
  void close() noexcept;
  void bind_target(std::size_t i);
  std::pair<int, int> target_size(std::size_t i) const;

  Window& main_;
  bool headless_;
  std::unique_ptr<ShaderProgram> program_;
  std::unique_ptr<CanvasSlots> canvases_;
  std::vector<Target> targets_;
  int canvas_w_ = 0, canvas_h_ = 0;      // canvas.width / height (0: the content's size)
  std::atomic<std::uint64_t> draws_{0};  // frames drawn on the main thread (output 1 / offscreen)
};

}  // namespace dw::render
