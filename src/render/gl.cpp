#include "render/gl.h"

#include <string>

#include "core/error.h"

namespace dw::render {

const char* gl_error_name(GLenum error) {
  switch (error) {
    case GL_INVALID_ENUM:
      return "GL_INVALID_ENUM";
    case GL_INVALID_VALUE:
      return "GL_INVALID_VALUE";
    case GL_INVALID_OPERATION:
      return "GL_INVALID_OPERATION";
    case GL_INVALID_FRAMEBUFFER_OPERATION:
      return "GL_INVALID_FRAMEBUFFER_OPERATION";
    case GL_OUT_OF_MEMORY:
      return "GL_OUT_OF_MEMORY";
    default:
      return "unknown GL error";
  }
}

void check_gl(const char* statement, const char* file, int line) {
  GLenum error = glGetError();
  if (error == GL_NO_ERROR) return;
  const GLenum first = error;
  std::string names = gl_error_name(first);
  // Drain the queue so the next check reports only its own statement.
  for (int i = 0; i < 16 && (error = glGetError()) != GL_NO_ERROR; ++i)
    names += std::string(", ") + gl_error_name(error);
  throw_api_error("GL", static_cast<long long>(first), names, statement, file, line);
}

}  // namespace dw::render
