#include "render/marks.h"

namespace dw::render {
namespace {

constexpr float kHandlePixels = 18.0f;

}  // namespace

MarksPainter::MarksPainter()
    : program_(shader_dir() / "calibration_handles.vert",
               shader_dir() / "calibration_handles.frag") {
  DW_GL_CHECK(glGenVertexArrays(1, &vertex_array_));
  DW_GL_CHECK(glGenBuffers(1, &buffer_));
  DW_GL_CHECK(glBindVertexArray(vertex_array_));
  DW_GL_CHECK(glBindBuffer(GL_ARRAY_BUFFER, buffer_));
  DW_GL_CHECK(glEnableVertexAttribArray(0));
  DW_GL_CHECK(glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 3 * sizeof(float), nullptr));
  DW_GL_CHECK(glEnableVertexAttribArray(1));
  DW_GL_CHECK(glVertexAttribPointer(1, 1, GL_FLOAT, GL_FALSE, 3 * sizeof(float),
                                    reinterpret_cast<const void*>(2 * sizeof(float))));
  DW_GL_CHECK(glBindVertexArray(0));
}

MarksPainter::~MarksPainter() {
  glDeleteBuffers(1, &buffer_);
  glDeleteVertexArrays(1, &vertex_array_);
}

void MarksPainter::draw(const CalibrationMarks& marks, int width, int height) {
  const auto count = static_cast<GLsizei>(marks.vertices.size() / 3);
  if (count < 4) return;
  DW_GL_CHECK(glViewport(0, 0, width, height));
  DW_GL_CHECK(glUseProgram(program_.id()));
  DW_GL_CHECK(glBindVertexArray(vertex_array_));
  DW_GL_CHECK(glBindBuffer(GL_ARRAY_BUFFER, buffer_));
  DW_GL_CHECK(glBufferData(GL_ARRAY_BUFFER,
                           static_cast<GLsizeiptr>(marks.vertices.size() * sizeof(float)),
                           marks.vertices.data(), GL_STREAM_DRAW));
  DW_GL_CHECK(glEnable(GL_PROGRAM_POINT_SIZE));
  DW_GL_CHECK(glUniform1f(program_.uniform("point_size"), kHandlePixels));
  DW_GL_CHECK(glUniform1i(program_.uniform("points"), 0));
  DW_GL_CHECK(glDrawArrays(GL_LINE_LOOP, 0, 4));  // the corner quad's outline
  if (marks.points) {
    DW_GL_CHECK(glUniform1i(program_.uniform("points"), 1));
    DW_GL_CHECK(glDrawArrays(GL_POINTS, 0, count));
  }
  DW_GL_CHECK(glDisable(GL_PROGRAM_POINT_SIZE));
  DW_GL_CHECK(glBindVertexArray(0));
}

}  // namespace dw::render
