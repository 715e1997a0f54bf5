// What the render loop hands copies of the canvas to (the recorder, screenshots): the loop asks
// once per presented frame which copies are wanted, reads the wanted frames back asynchronously
// and delivers the pixels a frame or two later. Every call is on the render thread and must return
// at once: a sink queues work for its own threads and never waits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dw {

struct CanvasWants {
  bool video = false;  // a frame for the recording
  bool still = false;  // a screenshot
  bool any() const { return video || still; }
};

struct CanvasFrame {
  int width = 0, height = 0;
  double t = 0;                    // canvas time (seconds since the loop started showing content)
  std::vector<std::uint8_t> rgba;  // width * height * 4, rows top to bottom
  CanvasWants wants;
};

class CanvasSink {
 public:
  virtual ~CanvasSink() = default;
  // Which copies of the frame shown at canvas time `t` are wanted.
  virtual CanvasWants wants(double t) = 0;
  // A buffer to read a frame of `bytes` into (a reused one when the sink has one).
  virtual std::vector<std::uint8_t> buffer(std::size_t bytes) = 0;
  // The pixels of a frame wants() asked for.
  virtual void take(CanvasFrame frame) = 0;
  // A wanted frame that could not be read back (every read-back buffer still busy).
  virtual void missed(CanvasWants wants) = 0;
};

}  // namespace dw
