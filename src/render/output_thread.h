// An output in a window of its own (outputs 2..) drawn on a thread of its own, so that each
// display runs at its own refresh: the thread waits for its display's vsync in its own swap, and
// neither holds the main loop nor is held by it. A 50 Hz projector beside a 60 Hz monitor swaps
// at its own 50 Hz vblank, tear-free, showing the latest canvas each time (the canvases it had no
// vblank for are counted as skipped, never half shown).
//
// The main thread hands over an order after each canvas it publishes (render/canvas_slots.h):
// the output's live config, the window's size, the light and the calibration marks. The thread
// draws the latest order from the latest canvas with its own context (shared with the main one:
// the canvas texture is read, never copied), its own program and its own vertex arrays.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/config_outputs.h"
#include "core/image.h"
#include "render/canvas_slots.h"
#include "render/marks.h"
#include "render/output_pass.h"
#include "render/window.h"

namespace dw::render {

struct OutputOrder {
  OutputConfig output;        // the live config's (calibration edits it)
  int width = 0, height = 0;  // the window's drawable size, as the main thread last saw it
  double light = 1.0;         // the schedule's fade
  bool dither = true;         // display.dither
  bool vsync = true;          // display.vsync: wait for this window's display
  double refresh_ms = 0;      // this window's display (for the log)
  CalibrationMarks marks;     // calibration's, over this output (empty: none)
};

struct OutputThreadStats {
  std::uint64_t presented = 0;  // swaps
  std::uint64_t skipped = 0;    // canvases published that this output never showed
  // Swaps per second over the last second (an estimate from the first few swaps before that);
  // 0 when there was none for a second.
  double fps = 0;
  bool own_thread = true;  // false: drawn by the main loop (its fps is the loop's)
  bool on_display = true;  // its window is on its own display (Outputs fills this in)
};

class OutputThread {
 public:
  // `window`'s context must be current on the calling thread: the output's program, pass and
  // marks painter are made in it here (a bad warp or mask throws dw::InputError naming output
  // index + 1). The thread starts with start(), once the caller has made another context current.
  OutputThread(Window& window, const OutputConfig& output, int index, CanvasSlots& canvases);
  // Stops the thread; its GL objects are deleted with the window's context current here.
  ~OutputThread();
  OutputThread(const OutputThread&) = delete;
  OutputThread& operator=(const OutputThread&) = delete;

  void start();
  // Main thread, after each canvas published: what to draw next (an order not yet drawn is
  // replaced: the thread always draws the latest).
  void submit(OutputOrder order);
  // The output's picture as the thread draws it next (before its swap), from the latest canvas;
  // nothing if the thread did not draw within `deadline` (warned).
  std::optional<Image> capture(std::chrono::milliseconds deadline);
  OutputThreadStats stats() const;
  // Test hook: called on the output's thread before each swap from now on (a display whose
  // vblank is far away); empty: none.
  void set_before_swap(std::function<void()> hook);

 private:
  void run(std::stop_token stop);
  // Answers `capture` (and resets it) once the picture is drawn; leaves it when nothing was.
  void draw(const OutputOrder& order, std::shared_ptr<std::promise<Image>>& capture,
            const std::function<void()>& before_swap);

  Window& window_;
  int index_;
  CanvasSlots& canvases_;
  std::unique_ptr<ShaderProgram> program_;
  std::unique_ptr<OutputPass> pass_;
  std::unique_ptr<MarksPainter> painter_;
  OutputConfig requested_;
  std::optional<bool> vsync_;  // as last set on the thread
  std::uint64_t shown_generation_ = 0;
  std::string last_error_;

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  OutputOrder order_;
  std::uint64_t orders_ = 0, orders_taken_ = 0;
  std::shared_ptr<std::promise<Image>> capture_;
  std::function<void()> before_swap_;
  std::atomic<std::uint64_t> presented_{0}, skipped_{0};
  // The rate: swaps counted over windows of at least a second, and the time of the last swap.
  std::atomic<double> fps_{0};
  std::atomic<std::int64_t> last_swap_ns_{0};
  std::chrono::steady_clock::time_point window_start_{};
  std::uint64_t window_presented_ = 0;
  std::jthread thread_;  // last: stopped first
};

}  // namespace dw::render
