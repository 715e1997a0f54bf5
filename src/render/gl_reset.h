// GPU resets. A driver that recovers from a GPU fault (a hang, a watchdog timeout, a fault in
// another program's work) loses every OpenGL context on the device: from then on draws do
// nothing and the screen stays black or frozen while the loop goes on "presenting". Contexts are
// asked for reset notification (lose the context on reset), and the render loop asks each turn
// whether a reset happened; it then ends the run with the reason, for the service manager to
// restart the program (a new context; the dream resumes where it was). Drivers without
// robustness (Mesa's llvmpipe) never report a reset.
#pragma once

#include <epoxy/gl.h>

#include <string>

namespace dw::render {

// Whether the current context was made to report resets (GL_LOSE_CONTEXT_ON_RESET, and a driver
// with glGetGraphicsResetStatus).
bool gl_context_reports_resets();
// The current context's reset status (GL_NO_ERROR, GL_GUILTY_CONTEXT_RESET,
// GL_INNOCENT_CONTEXT_RESET or GL_UNKNOWN_CONTEXT_RESET). Call only where
// gl_context_reports_resets() said true.
GLenum gl_reset_status();
// "this program's work caused it" for a status other than GL_NO_ERROR, for the log.
std::string describe_gl_reset(GLenum status);

}  // namespace dw::render
