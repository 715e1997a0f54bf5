#include "render/gl.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <string>

#include "core/error.h"

namespace dw::render {
namespace {

std::atomic<std::uint64_t> g_debug_errors{0};
std::mutex g_last_error_mutex;
std::string g_last_error;

#if DW_GL_CHECKS
void GLAPIENTRY on_gl_debug_message(GLenum /*source*/, GLenum type, GLuint id, GLenum severity,
                                    GLsizei length, const GLchar* message, const void* /*user*/) {
  const std::string text(message, length > 0 ? static_cast<std::size_t>(length) : 0);
  if (type == GL_DEBUG_TYPE_ERROR) {
    g_debug_errors.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(g_last_error_mutex);
      g_last_error = text;
    }
    spdlog::error("GL error (KHR_debug id {}): {}", id, text);
  } else if (severity == GL_DEBUG_SEVERITY_HIGH) {
    spdlog::warn("GL (KHR_debug id {}): {}", id, text);
  } else {
    spdlog::debug("GL (KHR_debug id {}): {}", id, text);
  }
}
#endif

}  // namespace

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

void drain_gl_errors() {
  for (int i = 0; i < 16 && glGetError() != GL_NO_ERROR; ++i) {
  }
}

void enable_gl_debug_output() {
#if DW_GL_CHECKS
  if (epoxy_gl_version() < 43 && !epoxy_has_gl_extension("GL_KHR_debug")) {
    spdlog::info("render: the driver has no KHR_debug; GL errors are seen by glGetError only");
    return;
  }
  glEnable(GL_DEBUG_OUTPUT);
  glEnable(GL_DEBUG_OUTPUT_SYNCHRONOUS);  // the callback runs inside the failing call
  glDebugMessageCallback(on_gl_debug_message, nullptr);
  glDebugMessageControl(GL_DONT_CARE, GL_DONT_CARE, GL_DONT_CARE, 0, nullptr, GL_TRUE);
#endif
}

std::uint64_t gl_debug_errors() {
  return g_debug_errors.load(std::memory_order_relaxed);
}

std::string last_gl_debug_error() {
  std::lock_guard lock(g_last_error_mutex);
  return g_last_error;
}

}  // namespace dw::render
