#include "render/offscreen.h"

#include <SDL.h>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace dw::render {

std::string prefer_headless_video_driver() {
  const char* chosen = std::getenv("SDL_VIDEODRIVER");
  if (chosen && *chosen) return "";
  SDL_SetHint(SDL_HINT_VIDEODRIVER, "offscreen");
  return "offscreen";
}

Offscreen::Offscreen(int width, int height, TargetFormat format) : format_(format) {
  const GLint filter = format == TargetFormat::Rgba8 ? GL_NEAREST : GL_LINEAR;
  DW_GL_CHECK(glGenTextures(1, &texture_));
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, texture_));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE));
  DW_GL_CHECK(glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE));
  DW_GL_CHECK(glGenFramebuffers(1, &framebuffer_));
  if (width > 0 && height > 0) resize(width, height);
}

void Offscreen::resize(int width, int height) {
  if (width == width_ && height == height_) return;
  const bool wide = format_ == TargetFormat::Rgba16f;
  DW_GL_CHECK(glBindTexture(GL_TEXTURE_2D, texture_));
  width_ = height_ = 0;  // until the allocation below succeeds
  DW_GL_ALLOC(glTexImage2D(GL_TEXTURE_2D, 0, wide ? GL_RGBA16F : GL_RGBA8, width, height, 0,
                           GL_RGBA, wide ? GL_FLOAT : GL_UNSIGNED_BYTE, nullptr));
  DW_GL_CHECK(glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_));
  DW_GL_CHECK(
      glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, texture_, 0));
  const GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
  if (status != GL_FRAMEBUFFER_COMPLETE)
    throw Error(fmt::format("{} framebuffer {}x{} is incomplete (0x{:x})",
                            wide ? "canvas" : "offscreen", width, height, status));
  width_ = width;
  height_ = height;
}

Offscreen::~Offscreen() {
  glDeleteFramebuffers(1, &framebuffer_);
  glDeleteTextures(1, &texture_);
}

void Offscreen::bind() const {
  DW_GL_CHECK(glBindFramebuffer(GL_FRAMEBUFFER, framebuffer_));
}

Image read_framebuffer(int width, int height) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgba.resize(static_cast<std::size_t>(width) * height * 4);
  DW_GL_CHECK(glPixelStorei(GL_PACK_ALIGNMENT, 4));
  DW_GL_CHECK(glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, img.rgba.data()));
  // GL's rows start at the bottom; images start at the top.
  const std::size_t row = static_cast<std::size_t>(width) * 4;
  std::vector<std::uint8_t> tmp(row);
  for (int y = 0; y < height / 2; ++y) {
    std::uint8_t* top = img.rgba.data() + y * row;
    std::uint8_t* bottom = img.rgba.data() + (height - 1 - y) * row;
    std::memcpy(tmp.data(), top, row);
    std::memcpy(top, bottom, row);
    std::memcpy(bottom, tmp.data(), row);
  }
  return img;
}

}  // namespace dw::render
