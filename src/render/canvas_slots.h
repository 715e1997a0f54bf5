// The canvas the presenter draws into, and the few canvases that let outputs on threads of their
// own (render/output_thread.h) read one picture while the main thread draws the next.
//
// The main thread draws a canvas and publishes it; an output thread takes the latest published
// canvas, draws from it and gives it back. A canvas is drawn again only when no output holds it
// and it is not the latest, so an output never sees a picture half drawn over; with one canvas
// per reader plus two there is always such a canvas, and the main thread never waits for a
// reader. The ordering on the GPU is by fences (sync objects are shared between the contexts):
// a reader's commands wait for the drawing of the canvas it took, and the main thread's next
// drawing into a canvas waits for the reads of its previous picture.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "render/gl.h"
#include "render/offscreen.h"

namespace dw::render {

// A canvas: an RGBA16F target (render/offscreen.h), so that the outputs' gamma and blending do
// not quantise twice; its texture is shared with the outputs' contexts.
using Canvas = Offscreen;

class CanvasSlots {
 public:
  // With the main context current. `readers`: the output threads that will read (0: one canvas
  // and no fences: every output is drawn on the main thread).
  explicit CanvasSlots(std::size_t readers);
  ~CanvasSlots();  // main context current, every reader stopped
  CanvasSlots(const CanvasSlots&) = delete;
  CanvasSlots& operator=(const CanvasSlots&) = delete;

  // Main thread: the canvas to draw next, sized width x height and bound.
  Canvas& begin_write(int width, int height);
  // Main thread: the canvas begun is drawn; readers get it from now on.
  void publish();
  // Main thread: the canvas last begun (what the main context's outputs, screenshots and the
  // recorder read).
  const Canvas& current() const { return *slots_[writing_].canvas; }

  struct Read {
    const Canvas* canvas = nullptr;  // nothing published yet: null
    std::uint64_t generation = 0;    // 1 for the first canvas published, then one more each
    std::size_t slot = 0;
  };
  // A reader, its context current: the latest canvas, held until release. The reader's commands
  // from here on wait (on the GPU) for its drawing.
  Read acquire();
  // A reader, after its last command that reads the canvas.
  void release(const Read& read);
  std::size_t count() const { return slots_.size(); }

 private:
  struct Slot {
    std::unique_ptr<Canvas> canvas;
    GLsync drawn = nullptr;     // after the main thread's drawing
    std::vector<GLsync> reads;  // after each reader's draw from it
    int readers = 0;
    std::uint64_t generation = 0;
  };
  bool fenced() const { return slots_.size() > 1; }

  mutable std::mutex mutex_;
  std::vector<Slot> slots_;
  std::size_t writing_ = 0;
  int width_ = 0, height_ = 0;     // as last drawn (logged when it changes)
  std::size_t latest_ = SIZE_MAX;  // none yet
  std::uint64_t generation_ = 0;
};

}  // namespace dw::render
