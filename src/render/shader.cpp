#include "render/shader.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "core/paths.h"

namespace dw::render {
namespace {

std::string read_text(const std::filesystem::path& path) {
  const auto bytes = read_file(path.string(), 1 << 20);
  return std::string(bytes.begin(), bytes.end());
}

GLuint compile(GLenum stage, const std::filesystem::path& file) {
  const std::string source = read_text(file);
  const GLuint shader = glCreateShader(stage);
  const char* text = source.c_str();
  glShaderSource(shader, 1, &text, nullptr);
  glCompileShader(shader);
  GLint ok = GL_FALSE;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (ok != GL_TRUE) {
    GLint length = 0;
    glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &length);
    std::vector<char> log(static_cast<std::size_t>(std::max(length, 1)));
    glGetShaderInfoLog(shader, length, nullptr, log.data());
    glDeleteShader(shader);
    throw Error(fmt::format("shader {} does not compile:\n{}", file.string(),
                            name_lines_in_log(log.data(), file.filename().string())));
  }
  return shader;
}

}  // namespace

std::string name_lines_in_log(const std::string& log, const std::string& file) {
  // Mesa: "0:12(3): error: ..."; NVIDIA: "0(12) : error C0000: ...". Both become "file:12: ...".
  static const std::regex mesa(R"((^|\n)\d+:(\d+)\(\d+\):)");
  static const std::regex nvidia(R"((^|\n)\d+\((\d+)\) :)");
  std::string out = std::regex_replace(log, mesa, "$1" + file + ":$2:");
  return std::regex_replace(out, nvidia, "$1" + file + ":$2:");
}

std::filesystem::path shader_dir() {
  if (auto found = find_data_path("shaders/present.frag")) return found->parent_path();
  std::string places;
  for (const auto& root : data_search_roots()) places += "\n  " + (root / "shaders").string();
  throw Error("cannot find the shaders (shaders/present.frag); looked in:" + places +
              "\nSet DREAMWINDOW_DATA_DIR to the folder that holds shaders/.");
}

ShaderProgram::ShaderProgram(const std::filesystem::path& vertex_file,
                             const std::filesystem::path& fragment_file) {
  const GLuint vs = compile(GL_VERTEX_SHADER, vertex_file);
  GLuint fs = 0;
  try {
    fs = compile(GL_FRAGMENT_SHADER, fragment_file);
  } catch (...) {
    glDeleteShader(vs);
    throw;
  }
  program_ = glCreateProgram();
  glAttachShader(program_, vs);
  glAttachShader(program_, fs);
  glLinkProgram(program_);
  glDeleteShader(vs);
  glDeleteShader(fs);
  GLint ok = GL_FALSE;
  glGetProgramiv(program_, GL_LINK_STATUS, &ok);
  if (ok != GL_TRUE) {
    GLint length = 0;
    glGetProgramiv(program_, GL_INFO_LOG_LENGTH, &length);
    std::vector<char> log(static_cast<std::size_t>(std::max(length, 1)));
    glGetProgramInfoLog(program_, length, nullptr, log.data());
    glDeleteProgram(program_);
    throw Error(fmt::format("shaders {} + {} do not link:\n{}", vertex_file.string(),
                            fragment_file.string(), log.data()));
  }
  read_uniform_locations();
}

void ShaderProgram::read_uniform_locations() {
  GLint count = 0, longest = 0;
  glGetProgramiv(program_, GL_ACTIVE_UNIFORMS, &count);
  glGetProgramiv(program_, GL_ACTIVE_UNIFORM_MAX_LENGTH, &longest);
  std::vector<char> name(static_cast<std::size_t>(std::max(longest, 1)));
  for (GLint i = 0; i < count; ++i) {
    GLsizei length = 0;
    GLint size = 0;
    GLenum type = 0;
    glGetActiveUniform(program_, static_cast<GLuint>(i), longest, &length, &size, &type,
                       name.data());
    std::string key(name.data(), static_cast<std::size_t>(length));
    if (key.ends_with("[0]")) key.resize(key.size() - 3);  // arrays answer to their bare name
    const GLint location = glGetUniformLocation(program_, key.c_str());
    if (location >= 0) uniforms_.emplace_back(std::move(key), location);
  }
}

GLint ShaderProgram::uniform(std::string_view name) const {
  for (const auto& [key, location] : uniforms_)
    if (key == name) return location;
  return -1;
}

ShaderProgram::~ShaderProgram() {
  if (program_) glDeleteProgram(program_);
}

}  // namespace dw::render
