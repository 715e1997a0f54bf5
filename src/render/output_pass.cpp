#include "render/output_pass.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace dw::render {
namespace {

GLuint make_texture(GLint filter) {
  GLuint t = 0;
  DW_GL_CHECK(glGenTextures(1, &t));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, t));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE));
  return t;
}

}  // namespace

std::unique_ptr<ShaderProgram> make_output_program() {
  return std::make_unique<ShaderProgram>(shader_dir() / "output.vert",
                                         shader_dir() / "output.frag");
}

OutputPass::OutputPass(const ShaderProgram& program, const OutputConfig& output, int index,
                       int width, int height)
    : program_(program), index_(index) {
  DW_GL_CHECK(glGenVertexArrays(1, &vertex_array_));
  mesh_lut_ = make_texture(GL_LINEAR);
  mask_ = make_texture(GL_NEAREST);
  configure(output, width, height);
}

OutputPass::~OutputPass() {
  glDeleteTextures(1, &mesh_lut_);
  glDeleteTextures(1, &mask_);
  glDeleteVertexArrays(1, &vertex_array_);
}

void OutputPass::configure(const OutputConfig& output, int width, int height) {
  // Everything is checked before anything changes: a refused setting leaves the pass as it was.
  const std::string name = fmt::format("output {}", index_ + 1);
  std::optional<OutputWarp> warp;
  try {
    warp.emplace(output, width, height);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", name, e.what()));
  }
  Image mask = output.mask == output_.mask ? mask_image_ : Image{};
  if (!output.mask.empty() && mask.empty()) {
    try {
      mask = load_image(output.mask);
    } catch (const std::exception& e) {
      throw InputError(
          fmt::format("{}: mask = \"{}\" cannot be read: {}", name, output.mask, e.what()));
    }
  }
  if (!mask.empty() && (mask.width != width || mask.height != height))
    throw InputError(fmt::format("{}: mask = \"{}\" is {}x{} but the output's window is {}x{}",
                                 name, output.mask, mask.width, mask.height, width, height));
  // A calibration drag configures the pass many times a second with the same mask: the texture
  // already holds it then.
  const bool mask_changed =
      !mask_uploaded_ || output.mask != output_.mask || width != width_ || height != height_;
  warp_ = std::move(warp);
  mask_image_ = std::move(mask);
  output_ = output;
  width_ = width;
  height_ = height;
  if (!mask_image_.empty() && mask_changed) {
    DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, mask_));
    DW_GL_CHECK(glPixelStorei(GL_UNPACK_ALIGNMENT, 4));
    DW_GL_ALLOC(glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA,
                             GL_UNSIGNED_BYTE, mask_image_.rgba.data()));
  }
  mask_uploaded_ = !mask_image_.empty();
  if (warp_->mesh()) build_mesh_lut();
}

// The mesh's inverse sampled on a grid over the quad (at most 256 x 256, one texel per logical
// pixel for small outputs); the shader interpolates it bilinearly. b = 1 where a region point
// lands, 0 where none does.
void OutputPass::build_mesh_lut() {
  lut_w_ = std::clamp(warp_->logical_width(), 2, 256);
  lut_h_ = std::clamp(warp_->logical_height(), 2, 256);
  std::vector<float> texels(static_cast<std::size_t>(lut_w_) * lut_h_ * 4);
  for (int y = 0; y < lut_h_; ++y)
    for (int x = 0; x < lut_w_; ++x) {
      const Vec2 q{static_cast<double>(x) / (lut_w_ - 1), static_cast<double>(y) / (lut_h_ - 1)};
      const auto uv = warp_->mesh()->inverse(q);
      float* t = &texels[(static_cast<std::size_t>(y) * lut_w_ + x) * 4];
      t[0] = uv ? static_cast<float>(uv->x) : 0.0f;
      t[1] = uv ? static_cast<float>(uv->y) : 0.0f;
      t[2] = uv ? 1.0f : 0.0f;
      t[3] = 1.0f;
    }
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, mesh_lut_));
  DW_GL_ALLOC(glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32F, lut_w_, lut_h_, 0, GL_RGBA, GL_FLOAT,
                           texels.data()));
}

void OutputPass::draw(GLuint canvas, double light, bool dither) {
  const ShaderProgram& p = program_;
  const OutputConfig& o = output_;
  DW_GL_CHECK(glViewport(0, 0, width_, height_));
  DW_GL_CHECK(glUseProgram(p.id()));
  std::array<float, 9> m;
  for (int i = 0; i < 9; ++i) m[i] = static_cast<float>(warp_->logical_to_quad()[i]);
  DW_GL_CHECK(glUniformMatrix3fv(p.uniform("logical_to_quad"), 1, GL_TRUE, m.data()));
  DW_GL_CHECK(glUniform2i(p.uniform("size"), width_, height_));
  DW_GL_CHECK(
      glUniform2i(p.uniform("logical_size"), warp_->logical_width(), warp_->logical_height()));
  DW_GL_CHECK(glUniform1i(p.uniform("rotate"), o.rotate));
  DW_GL_CHECK(glUniform2i(p.uniform("flip"), o.flip_h ? 1 : 0, o.flip_v ? 1 : 0));
  DW_GL_CHECK(glUniform4f(p.uniform("region"), static_cast<float>(o.region.x),
                          static_cast<float>(o.region.y), static_cast<float>(o.region.w),
                          static_cast<float>(o.region.h)));
  DW_GL_CHECK(glUniform1i(p.uniform("has_mesh"), warp_->mesh() ? 1 : 0));
  DW_GL_CHECK(
      glUniform2f(p.uniform("lut_size"), static_cast<float>(lut_w_), static_cast<float>(lut_h_)));
  DW_GL_CHECK(glUniform1i(p.uniform("has_mask"), mask_image_.empty() ? 0 : 1));
  DW_GL_CHECK(glUniform4f(p.uniform("blend_sides"), static_cast<float>(o.blend.left),
                          static_cast<float>(o.blend.right), static_cast<float>(o.blend.top),
                          static_cast<float>(o.blend.bottom)));
  DW_GL_CHECK(glUniform1f(p.uniform("blend_curve"), static_cast<float>(o.blend.curve)));
  DW_GL_CHECK(glUniform1f(p.uniform("blend_gamma"), static_cast<float>(o.blend.gamma)));
  DW_GL_CHECK(glUniform1f(p.uniform("black_lift"), static_cast<float>(o.blend.black_lift)));
  DW_GL_CHECK(glUniform1f(p.uniform("brightness"), static_cast<float>(o.brightness * light)));
  DW_GL_CHECK(glUniform1f(p.uniform("inverse_gamma"), static_cast<float>(1.0 / o.gamma)));
  DW_GL_CHECK(glUniform1i(p.uniform("dither"), dither ? 1 : 0));
  DW_GL_CHECK(glUniform1i(p.uniform("canvas"), 0));
  DW_GL_CHECK(glUniform1i(p.uniform("mesh_lut"), 1));
  DW_GL_CHECK(glUniform1i(p.uniform("mask"), 2));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE0));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, canvas));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE1));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, mesh_lut_));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE2));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, mask_));
  DW_GL_CHECK(glBindVertexArray(vertex_array_));
  DW_GL_CHECK(glDrawArrays(GL_TRIANGLE_STRIP, 0, 4));
  DW_GL_CHECK(glBindVertexArray(0));
  DW_GL_CHECK(glActiveTexture(GL_TEXTURE0));
}

namespace {

std::optional<std::string> try_configure(OutputPass& pass, const OutputConfig& o, int w, int h) {
  try {
    pass.configure(o, w, h);
  } catch (const InputError& e) {
    return e.what();
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<OutputPass> make_output_pass(const ShaderProgram& program,
                                             const OutputConfig& output, int index, int width,
                                             int height, bool on_its_display) {
  if (on_its_display || output.mask.empty())
    return std::make_unique<OutputPass>(program, output, index, width, height);
  OutputConfig without_mask = output;
  without_mask.mask.clear();
  auto pass = std::make_unique<OutputPass>(program, without_mask, index, width, height);
  if (const auto err = try_configure(*pass, output, width, height))
    spdlog::info("{}; it goes on once the output is on its display", *err);
  return pass;
}

void follow_output(OutputPass& pass, OutputConfig& requested, const OutputConfig& wanted, int width,
                   int height) {
  if (width <= 0 || height <= 0) return;
  const bool edited = wanted != requested;
  if (!edited && width == pass.width() && height == pass.height()) return;
  if (edited) requested = wanted;
  const auto err = try_configure(pass, requested, width, height);
  if (!err) return;
  OutputConfig without_mask = requested;
  without_mask.mask.clear();
  if (!try_configure(pass, without_mask, width, height)) {
    spdlog::warn("{}; it runs without its mask", *err);
    return;
  }
  OutputConfig last = pass.output();
  last.mask.clear();
  if (try_configure(pass, last, width, height)) pass.configure(OutputConfig{}, width, height);
  spdlog::warn("{}; it keeps its previous setting", *err);
}

}  // namespace dw::render
