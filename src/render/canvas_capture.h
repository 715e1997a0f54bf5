// Asynchronous read-back of the canvas for the recorder and screenshots. After the canvas is
// drawn, a wanted frame is copied into a pixel-pack buffer (glReadPixels into a PBO returns at
// once: the copy runs on the GPU) with a fence behind it; a later frame maps the buffer once its
// fence has passed and hands the pixels to the sink. The render thread never waits for the GPU:
// when every buffer is still in flight the frame is reported missed instead.
#pragma once

#include <cstdint>
#include <vector>

#include "core/canvas_sink.h"
#include "render/gl.h"

namespace dw::render {

struct CanvasCaptureStats {
  std::uint64_t reads = 0;      // read-backs started
  std::uint64_t delivered = 0;  // handed to the sink
  std::uint64_t missed = 0;     // wanted while every buffer was in flight
  double max_call_ms = 0;       // the longest after_draw() (render thread time)
  double total_call_ms = 0;
  // Of that: starting reads (a software renderer finishes drawing the frame here, a GPU does
  // not) and handing finished ones over (map, row flip into the sink's buffer).
  double total_read_ms = 0;
  double total_deliver_ms = 0;
};

class CanvasCapture {
 public:
  // `buffers`: read-backs that may be in flight at once (2-3: double or triple buffering).
  explicit CanvasCapture(CanvasSink& sink, int buffers = 3);
  ~CanvasCapture();
  CanvasCapture(const CanvasCapture&) = delete;
  CanvasCapture& operator=(const CanvasCapture&) = delete;

  // Call with the canvas bound for reading, right after it is drawn (before any overlay), once per
  // presented frame; `dt` is the canvas time since the last call. Hands finished read-backs to
  // the sink, then starts this frame's if the sink wants it.
  void after_draw(int width, int height, double dt);
  // End of the run: waits (bounded) for the read-backs in flight and hands them over.
  void flush();
  const CanvasCaptureStats& stats() const { return stats_; }

 private:
  struct Slot {
    GLuint buffer = 0;
    GLsync fence = nullptr;
    std::size_t capacity = 0;
    int width = 0, height = 0;
    double t = 0;
    CanvasWants wants;
    std::uint64_t order = 0;
  };
  void deliver_ready(bool wait);
  void deliver(Slot& slot);
  Slot* free_slot();

  CanvasSink& sink_;
  std::vector<Slot> slots_;
  double t_ = 0;
  std::uint64_t next_order_ = 0;
  std::uint64_t calls_ = 0;
  CanvasCaptureStats stats_;
};

}  // namespace dw::render
