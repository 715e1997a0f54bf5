// The outputs on the GPU (shaders/output.frag through OutputPass, and Outputs with the presenter)
// against the CPU reference of render/warp.h: a grid through a corner-pin and a mesh at >= 40 dB,
// rotations and flips pixel-identical, two outputs' blend ramps summing to the canvas's light
// within one 8-bit step, each output showing its region with one upload per content frame.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "core/frame_ring.h"
#include "image_compare.h"
#include "render/offscreen.h"
#include "render/output_pass.h"
#include "render/outputs.h"
#include "render/presenter.h"
#include "render/warp.h"
#include "render/window.h"

namespace dw::render {
namespace {

// A grid with gradients: lines every 16 pixels over smooth colour ramps.
Image grid(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      const bool line = x % 16 == 0 || y % 16 == 0;
      p[0] = line ? 255 : static_cast<std::uint8_t>(40 + 180 * x / w);
      p[1] = line ? 255 : static_cast<std::uint8_t>(30 + 200 * y / h);
      p[2] = line ? 40 : static_cast<std::uint8_t>((x * 3 + y * 5) % 200);
      p[3] = 255;
    }
  return img;
}

class OutputGl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr)
      GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)";
    DisplayConfig d;
    d.width = 64;
    d.height = 64;
    window_.emplace(d, /*headless=*/true);
    program_ = make_output_program();
  }
  void TearDown() override {
    if (canvas_) glDeleteTextures(1, &canvas_);
  }

  // The canvas as the outputs see it: a texture with rows bottom-up.
  void upload_canvas(const Image& img) {
    if (!canvas_) glGenTextures(1, &canvas_);
    glBindTexture(GL_TEXTURE_2D, canvas_);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    std::vector<std::uint8_t> flipped(img.rgba.size());
    const std::size_t row = static_cast<std::size_t>(img.width) * 4;
    for (int y = 0; y < img.height; ++y)
      std::copy_n(img.rgba.data() + (img.height - 1 - y) * row, row, flipped.data() + y * row);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, img.width, img.height, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                 flipped.data());
  }

  Image gpu(const OutputConfig& o, int w, int h, double light = 1.0) {
    OutputPass pass(*program_, o, 0, w, h);
    Offscreen target(w, h);
    target.bind();
    pass.draw(canvas_, light, /*dither=*/false);
    return read_framebuffer(w, h);
  }

  std::optional<Window> window_;
  std::unique_ptr<ShaderProgram> program_;
  GLuint canvas_ = 0;
};

TEST_F(OutputGl, CornerPinAndMeshMatchTheCpuReference) {
  const Image canvas = grid(320, 200);
  upload_canvas(canvas);
  OutputConfig o;
  o.region = {0.1, 0.05, 0.8, 0.9};
  o.corners = {{{0.08, 0.02}, {0.93, 0.1}, {0.98, 0.95}, {0.03, 0.85}}};
  o.mesh = identity_mesh(3, 4);
  o.mesh.points[5] = {0.38, 0.56};  // inner nodes moved: a bulge
  o.mesh.points[6] = {0.70, 0.44};
  const Image want = render_output_cpu(canvas, o, 256, 176);
  const Image got = gpu(o, 256, 176);
  EXPECT_GE(psnr(got, want), 40.0);
  // The reference is not trivially close to everything: the un-warped picture is far from it.
  EXPECT_LT(psnr(render_output_cpu(canvas, OutputConfig{}, 256, 176), want), 25.0);

  o.rotate = 90;
  o.flip_v = true;
  o.gamma = 1.4;
  o.brightness = 0.8;
  EXPECT_GE(psnr(gpu(o, 176, 256), render_output_cpu(canvas, o, 176, 256)), 40.0);
}

TEST_F(OutputGl, RotationsAndFlipsArePixelIdentical) {
  const Image canvas = grid(48, 32);
  upload_canvas(canvas);
  for (int rotate : {0, 90, 180, 270})
    for (int flips = 0; flips < 4; ++flips) {
      OutputConfig o;
      o.rotate = rotate;
      o.flip_h = flips & 1;
      o.flip_v = flips & 2;
      const bool swap = rotate == 90 || rotate == 270;
      const int w = swap ? 32 : 48, h = swap ? 48 : 32;
      const Image got = gpu(o, w, h);
      const Orientation orientation{rotate, o.flip_h, o.flip_v};
      int differing = 0;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          int lx, ly;
          physical_to_logical(orientation, w, h, x, y, lx, ly);
          for (int c = 0; c < 3; ++c) differing += got.pixel(x, y)[c] != canvas.pixel(lx, ly)[c];
        }
      EXPECT_EQ(differing, 0) << "rotate " << rotate << " flips " << flips;
    }
}

TEST_F(OutputGl, OverlappingBlendRampsSumToTheCanvasLight) {
  // A 500-pixel canvas with a horizontal ramp; A shows [0, 300), B shows [200, 500), each at one
  // output pixel per canvas pixel, so the overlap is A's x 200..299 and B's x 0..99.
  Image canvas(500, 8);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 500; ++x) {
      std::uint8_t* p = canvas.pixel(x, y);
      p[0] = p[1] = p[2] = static_cast<std::uint8_t>(60 + x * 190 / 499);
      p[3] = 255;
    }
  upload_canvas(canvas);
  for (double curve : {1.0, 2.5}) {
    OutputConfig a, b;
    a.region = {0, 0, 0.6, 1};
    b.region = {0.4, 0, 0.6, 1};
    a.blend.right = b.blend.left = 1.0 / 3.0;
    a.blend.curve = b.blend.curve = curve;
    const Image ia = gpu(a, 300, 8), ib = gpu(b, 300, 8);
    int worst = 0;
    for (int x = 200; x < 300; ++x) {
      const double g = 2.2;
      const double light =
          std::pow(ia.pixel(x, 4)[0] / 255.0, g) + std::pow(ib.pixel(x - 200, 4)[0] / 255.0, g);
      const double value = std::pow(light, 1 / g) * 255;
      worst =
          std::max(worst, static_cast<int>(std::lround(std::abs(value - canvas.pixel(x, 4)[0]))));
      // Inside the overlap each projector gives only part of the light.
      if (x > 230 && x < 270) {
        EXPECT_LT(ia.pixel(x, 4)[0], canvas.pixel(x, 4)[0]);
      }
    }
    EXPECT_LE(worst, 1) << "curve " << curve;
    EXPECT_EQ(ia.pixel(100, 4)[0], canvas.pixel(100, 4)[0]);  // outside the ramp: unchanged
  }
  // Black lift: black outside the ramps rises to the lift's light, inside it stays black.
  Image black(500, 8);
  for (std::size_t i = 0; i < black.rgba.size(); ++i) black.rgba[i] = i % 4 == 3 ? 255 : 0;
  upload_canvas(black);
  OutputConfig a;
  a.region = {0, 0, 0.6, 1};
  a.blend.right = 1.0 / 3.0;
  a.blend.black_lift = 0.01;
  const Image ia = gpu(a, 300, 8);
  EXPECT_NEAR(ia.pixel(50, 4)[0], std::pow(0.01, 1 / 2.2) * 255, 1.0);
  EXPECT_EQ(ia.pixel(250, 4)[0], 0);
}

TEST_F(OutputGl, TheSchedulesLightAndAMaskDimTheOutput) {
  Image grey(32, 32);
  for (std::size_t i = 0; i < grey.rgba.size(); ++i) grey.rgba[i] = i % 4 == 3 ? 255 : 200;
  upload_canvas(grey);
  OutputConfig o;
  EXPECT_EQ(gpu(o, 32, 32, 0.5).pixel(10, 10)[0], 100);
  EXPECT_EQ(gpu(o, 32, 32, 0.0).pixel(10, 10)[0], 0);
}

// The presenter's frames through the canvas into two headless outputs side by side.
TEST_F(OutputGl, TwoOutputsShowTheirRegionsWithOneUploadPerContentFrame) {
  FrameRing<Frame> ring(16);
  Presenter presenter(ring, make_host_frame_uploader());
  Config config;
  config.display.dither = false;
  config.display.idle_motion = 0;
  config.playback.min_buffer_s = 0;
  config.display.content_fps = 30;
  OutputConfig left, right;
  left.width = right.width = 80;
  left.height = right.height = 100;
  left.region = {0, 0, 0.5, 1};
  right.region = {0.5, 0, 0.5, 1};
  config.outputs.outputs = {left, right};
  Outputs outputs(*window_, config, /*headless=*/true);
  ASSERT_EQ(outputs.count(), 2u);
  std::uint64_t pushed = 0;
  for (int frame = 0; frame < 40; ++frame) {
    if (ring.size() < 4) {
      Frame* f = ring.begin_write();
      ASSERT_NE(f, nullptr);
      const Image g = grid(160, 100);
      f->resize_host(160, 100);
      for (std::size_t i = 0; i < g.rgba.size(); ++i)
        f->host_rgba[i] = static_cast<std::uint8_t>(g.rgba[i] + (i % 4 == 3 ? 0 : pushed * 3));
      f->info.sequence = pushed++;
      ring.commit_write();
    }
    presenter.update(1.0 / 60, config);
    outputs.draw(presenter, config, 1.0);
  }
  const PresenterStats& s = presenter.stats();
  EXPECT_GT(s.content_frames_shown, 10u);
  // One upload per content frame taken from the ring (the next frame may be loaded already),
  // not one per output.
  EXPECT_GE(s.content_uploads, s.content_frames_shown);
  EXPECT_LE(s.content_uploads, s.content_frames_shown + 1);
  const std::vector<Image> shots = outputs.capture();
  const Image canvas = outputs.capture_canvas();
  ASSERT_EQ(canvas.width, 160);
  const Image left_half = crop_columns(canvas, 0, 80), right_half = crop_columns(canvas, 80, 80);
  EXPECT_GE(psnr(shots[0], left_half), 40.0);
  EXPECT_GE(psnr(shots[1], right_half), 40.0);
  EXPECT_LT(psnr(shots[0], right_half), 30.0);  // the halves differ: each shows its own
}

// Calibration edits outputs through the live config: a new corner-pin applies on the next frame,
// a folded one is refused with a warning and the last good warp keeps running.
TEST_F(OutputGl, LiveEditsApplyAndBadOnesKeepThePreviousWarp) {
  FrameRing<Frame> ring(4);
  Presenter presenter(ring, make_host_frame_uploader());
  Config config;
  config.display.dither = false;
  config.display.idle_motion = 0;
  config.playback.min_buffer_s = 0;
  OutputConfig o;
  o.width = 64;
  o.height = 48;
  config.outputs.outputs = {o};
  config.outputs.canvas_width = 64;
  config.outputs.canvas_height = 48;
  Frame* f = ring.begin_write();
  ASSERT_NE(f, nullptr);
  f->resize_host(64, 48);
  std::fill(f->host_rgba.begin(), f->host_rgba.end(), 255);
  ring.commit_write();
  Outputs outputs(*window_, config, /*headless=*/true);
  const auto shot = [&] {
    presenter.update(1.0 / 60, config);
    outputs.draw(presenter, config, 1.0);
    return outputs.capture()[0];
  };
  EXPECT_EQ(shot().pixel(2, 2)[0], 255);  // the full frame fills the output
  config.outputs.outputs[0].corners = {{{0.25, 0.25}, {0.75, 0.25}, {0.75, 0.75}, {0.25, 0.75}}};
  Image pinned = shot();
  EXPECT_EQ(pinned.pixel(2, 2)[0], 0);  // outside the new quad: black
  EXPECT_EQ(pinned.pixel(32, 24)[0], 255);
  config.outputs.outputs[0].corners = {{{0, 0}, {1, 0}, {0, 1}, {1, 1}}};  // folded
  Image kept = shot();
  EXPECT_EQ(kept.rgba, pinned.rgba);
}

}  // namespace
}  // namespace dw::render
