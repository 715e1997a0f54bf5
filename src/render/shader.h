// GLSL programs loaded from files in shaders/ at start-up. A compile or link error names the file
// and the line the driver complains about (driver logs look like "0:12(3): error: ...").
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "render/gl.h"

namespace dw::render {

// Where the shaders live: $DREAMWINDOW_DATA_DIR/shaders, beside/above the executable, or the
// source tree. Throws dw::Error listing the places it looked.
std::filesystem::path shader_dir();

class ShaderProgram {
 public:
  // Reads and compiles both files; throws dw::Error naming file and line on failure.
  ShaderProgram(const std::filesystem::path& vertex_file,
                const std::filesystem::path& fragment_file);
  ~ShaderProgram();
  ShaderProgram(const ShaderProgram&) = delete;
  ShaderProgram& operator=(const ShaderProgram&) = delete;

  GLuint id() const { return program_; }
  // The location of an active uniform, from the table read once at link (no GL call per frame);
  // -1 for a name the program does not use (glUniform* ignores -1, as GL itself would).
  GLint uniform(std::string_view name) const;

 private:
  void read_uniform_locations();

  GLuint program_ = 0;
  std::vector<std::pair<std::string, GLint>> uniforms_;
};

// Rewrites a driver's info log so that each "0:LINE" becomes "FILE:LINE" (exposed for tests).
std::string name_lines_in_log(const std::string& log, const std::string& file);

}  // namespace dw::render
