// Headless rendering: the video driver a headless run asks SDL for, and the framebuffer object
// with a texture that headless mode draws into, screenshots read back and the outputs' canvas is.
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

enum class TargetFormat {
  Rgba8,    // nearest filtering: a headless window, a test's target
  Rgba16f,  // linear filtering, clamped: the canvas the outputs sample (no second quantisation)
};

class Offscreen {
 public:
  // A width x height target (0 x 0: no storage until resize). Throws dw::Error naming the size
  // when the driver cannot make the framebuffer complete.
  Offscreen(int width, int height, TargetFormat format = TargetFormat::Rgba8);
  ~Offscreen();
  Offscreen(const Offscreen&) = delete;
  Offscreen& operator=(const Offscreen&) = delete;

  // New storage of width x height, only when the size changes.
  void resize(int width, int height);
  void bind() const;
  // The texture is shared with shared contexts; the framebuffer object only with the one that
  // made it.
  GLuint texture() const { return texture_; }
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  TargetFormat format_;
  GLuint framebuffer_ = 0;
  GLuint texture_ = 0;
  int width_ = 0, height_ = 0;
};

// Reads the bound framebuffer's w x h pixels into an image, rows top to bottom.
Image read_framebuffer(int width, int height);

}  // namespace dw::render
