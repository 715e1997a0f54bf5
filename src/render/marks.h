// Calibration's marks over an output: its corner quad's outline and, on the selected output, its
// corners and mesh nodes as rings with the selected one filled. The marks are plain data (made on
// the main thread by render/calibration.h), so that an output drawn on a thread of its own
// (render/output_thread.h) can paint them with its own GL objects: vertex arrays belong to one
// context, and a program's uniforms must not be set from two threads at once.
#pragma once

#include <vector>

#include "render/gl.h"
#include "render/shader.h"

namespace dw::render {

struct CalibrationMarks {
  // (x, y, selected) per vertex; x, y in the target's 0..1, y down. The first four are the corner
  // quad's outline; with `points`, every vertex is also drawn as a handle.
  std::vector<float> vertices;
  bool points = false;
  bool empty() const { return vertices.empty(); }
};

// Paints marks into the bound framebuffer. Holds its own program, vertex array and buffer: create
// and use it with one context current (any thread, one at a time).
class MarksPainter {
 public:
  MarksPainter();
  ~MarksPainter();
  MarksPainter(const MarksPainter&) = delete;
  MarksPainter& operator=(const MarksPainter&) = delete;

  void draw(const CalibrationMarks& marks, int width, int height);

 private:
  ShaderProgram program_;
  GLuint vertex_array_ = 0, buffer_ = 0;
};

}  // namespace dw::render
