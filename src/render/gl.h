// OpenGL through libepoxy, and the checks that debug and test builds put around GL calls
// (DW_GL_CHECKS, set by CMake: Debug builds and the asan/tsan presets). There DW_GL_CHECK runs
// glGetError after the statement and throws dw::Error with the statement, file and line (and the
// GL error's name), and the context is a debug context whose KHR_debug messages go to the log. In
// other builds DW_GL_CHECK is the bare statement: no glGetError round trips in a release binary.
// Only the main thread includes this.
#pragma once

#include <epoxy/gl.h>

#include <cstdint>
#include <string>

#ifndef DW_GL_CHECKS
#define DW_GL_CHECKS 0
#endif

namespace dw::render {

const char* gl_error_name(GLenum error);
// Empties the GL error queue (at most 16 errors; see DW_GL_ALLOC).
void drain_gl_errors();
// Throws dw::Error when glGetError reports anything (draining every queued error).
void check_gl(const char* statement, const char* file, int line);

// Checked builds: routes the current context's KHR_debug messages to the log (errors at error
// level and counted, high-severity messages as warnings, the rest at debug level). Does nothing in
// other builds or when the driver lacks KHR_debug.
void enable_gl_debug_output();
// Driver-reported GL errors since start (checked builds; always 0 otherwise), and the last one.
std::uint64_t gl_debug_errors();
std::string last_gl_debug_error();

}  // namespace dw::render

// Storage allocations (a texture's, a buffer's) are checked in every build: a driver out of memory
// (the GPU shared with ComfyUI and the VAE) leaves an object with no storage, which samples black
// or reads nothing for as long as the program runs, and nothing else would notice in a release
// binary. Errors queued before are drained first (they are not this allocation's).
#define DW_GL_ALLOC(statement)                              \
  do {                                                      \
    ::dw::render::drain_gl_errors();                        \
    statement;                                              \
    ::dw::render::check_gl(#statement, __FILE__, __LINE__); \
  } while (0)

#if DW_GL_CHECKS
#define DW_GL_CHECK(statement)                              \
  do {                                                      \
    statement;                                              \
    ::dw::render::check_gl(#statement, __FILE__, __LINE__); \
  } while (0)
#else
#define DW_GL_CHECK(statement) \
  do {                         \
    statement;                 \
  } while (0)
#endif
