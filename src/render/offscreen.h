// Headless rendering: the video driver a headless run asks SDL for, and the RGBA8 framebuffer
// object that headless mode draws into and screenshots read back.
#pragma once

#include <string>

#include "core/image.h"
#include "render/gl.h"

namespace dw::render {

// A headless run needs no X server: SDL's "offscreen" video driver gives an EGL pbuffer context
// on the first EGL device that initialises (EGL_EXT_device_enumeration + EGL_EXT_platform_device;
// the environment variable SDL_HINT_EGL_DEVICE=<index> picks another). On a GPU machine that is
// the NVIDIA driver's context, so CUDA-GL interop works; under Mesa it is llvmpipe. Call before
// SDL's video subsystem starts. A driver the user chose (SDL_VIDEODRIVER, say x11 under Xvfb) is
// kept. Returns the driver asked for ("" when the user's choice stands).
std::string prefer_headless_video_driver();

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
