#include "render/gl_reset.h"

#include <fmt/format.h>

namespace dw::render {

bool gl_context_reports_resets() {
  const bool has_query = epoxy_gl_version() >= 45 || epoxy_has_gl_extension("GL_KHR_robustness") ||
                         epoxy_has_gl_extension("GL_ARB_robustness");
  if (!has_query) return false;
  GLint strategy = 0;
  glGetIntegerv(GL_RESET_NOTIFICATION_STRATEGY, &strategy);
  glGetError();  // a driver without the query's enum: not a reset, and no error left behind
  return strategy == GL_LOSE_CONTEXT_ON_RESET;
}

GLenum gl_reset_status() {
  return glGetGraphicsResetStatus();
}

std::string describe_gl_reset(GLenum status) {
  switch (status) {
    case GL_NO_ERROR:
      return "no reset";
    case GL_GUILTY_CONTEXT_RESET:
      return "this program's work caused it";
    case GL_INNOCENT_CONTEXT_RESET:
      return "another program's work caused it";
    case GL_UNKNOWN_CONTEXT_RESET:
      return "the driver does not say what caused it";
    default:
      return fmt::format("status 0x{:04x}", status);
  }
}

}  // namespace dw::render
