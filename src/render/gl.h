// OpenGL through libepoxy, and the check after GL calls: glGetError after the statement, thrown
// as dw::Error with the statement, file and line (and the GL error's name). Only the main thread
// includes this.
#pragma once

#include <epoxy/gl.h>

namespace dw::render {

const char* gl_error_name(GLenum error);
// Throws dw::Error when glGetError reports anything (draining every queued error).
void check_gl(const char* statement, const char* file, int line);

}  // namespace dw::render

#define DW_GL_CHECK(statement)                              \
  do {                                                      \
    statement;                                              \
    ::dw::render::check_gl(#statement, __FILE__, __LINE__); \
  } while (0)
