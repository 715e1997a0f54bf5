// An RGBA8 framebuffer object: what headless mode draws into, and what screenshots read back.
#pragma once

#include "core/image.h"
#include "render/gl.h"

namespace dw::render {

class Offscreen {
 public:
  Offscreen(int width, int height);
  ~Offscreen();
  Offscreen(const Offscreen&) = delete;
  Offscreen& operator=(const Offscreen&) = delete;

  void bind() const;
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  GLuint framebuffer_ = 0;
  GLuint texture_ = 0;
  int width_, height_;
};

// Reads the bound framebuffer's w x h pixels into an image, rows top to bottom.
Image read_framebuffer(int width, int height);

}  // namespace dw::render
