// The GL layer under a real context (Mesa's llvmpipe under Xvfb): the checks of debug and test
// builds and the uniform table of a linked program.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "core/error.h"
#include "render/gl.h"
#include "render/offscreen.h"
#include "render/shader.h"
#include "render/window.h"
#include "support/test_support.h"

namespace dw::render {
namespace {

class GlBasics : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr)
      GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)";
    DisplayConfig display;
    display.width = 32;
    display.height = 32;
    window_.emplace(display, /*headless=*/true);
    target_.emplace(32, 32);
    target_->bind();
  }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }

  dw::test::ScratchDir dir_;
  std::optional<Window> window_;
  std::optional<Offscreen> target_;
};

TEST_F(GlBasics, CheckedBuildsThrowNamingTheCallAndLogTheDriversReport) {
  if (!DW_GL_CHECKS)
    GTEST_SKIP() << "GL checks are compiled into Debug and test-preset builds only";
  const std::uint64_t reported_before = gl_debug_errors();
  try {
    // 0x7fffff was never returned by glGenTextures: binding it is an error in a core context.
    DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, 0x7fffff));
    FAIL() << "DW_GL_CHECK did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("glBindTexture"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("GL_INVALID_OPERATION"), std::string::npos) << e.what();
  }
  EXPECT_EQ(gl_debug_errors(), reported_before + 1) << "KHR_debug did not report the error";
  EXPECT_NE(last_gl_debug_error().find("glBindTexture"), std::string::npos)
      << last_gl_debug_error();
  EXPECT_EQ(glGetError(), static_cast<GLenum>(GL_NO_ERROR)) << "the check drains the queue";
}

TEST_F(GlBasics, UniformLocationsComeFromTheLinkedProgram) {
  const std::string vertex = write("t.vert", R"(#version 330 core
uniform vec2 offset;
uniform float weights[3];
void main() {
  gl_Position = vec4(offset * (weights[0] + weights[2]), 0.0, 1.0);
})");
  const std::string fragment = write("t.frag", R"(#version 330 core
uniform vec4 tint;
uniform float declared_but_unused;
out vec4 colour;
void main() { colour = tint; })");
  ShaderProgram program(vertex, fragment);
  for (const char* name : {"offset", "weights", "tint"}) {
    EXPECT_GE(program.uniform(name), 0) << name;
    EXPECT_EQ(program.uniform(name), glGetUniformLocation(program.id(), name)) << name;
  }
  EXPECT_EQ(program.uniform("declared_but_unused"), -1) << "the compiler drops unused uniforms";
  EXPECT_EQ(program.uniform("no_such_uniform"), -1);
  EXPECT_EQ(glGetError(), static_cast<GLenum>(GL_NO_ERROR));
}

}  // namespace
}  // namespace dw::render
