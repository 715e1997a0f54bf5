// The small copies the cache gets of content frames: the size rule, the box filter the GPU kernel
// (kernels/vae/frames.cu, tested against this in tests/gpu) reproduces, and the backends' default
// frame_preview for host frames.
#include "vae/pixels.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "vae/backend.h"
#include "vae/model.h"
#include "vae_test_support.h"

namespace dw::vae {
namespace {

TEST(ShrinkToFit, LongerSideFitsAndTheAspectRatioStays) {
  const ImageSize wide = shrunk_size(1024, 512, 512);
  EXPECT_EQ(wide.width, 512);
  EXPECT_EQ(wide.height, 256);
  const ImageSize tall = shrunk_size(600, 1000, 250);
  EXPECT_EQ(tall.width, 150);
  EXPECT_EQ(tall.height, 250);
  const ImageSize sliver = shrunk_size(3000, 7, 64);
  EXPECT_EQ(sliver.width, 64);
  EXPECT_EQ(sliver.height, 1);  // never zero
  const ImageSize small = shrunk_size(320, 200, 512);
  EXPECT_EQ(small.width, 320);
  EXPECT_EQ(small.height, 200);
  EXPECT_THROW(shrunk_size(0, 10, 8), Error);
}

TEST(ShrinkToFit, EachPixelIsTheRoundedMeanOfItsCell) {
  Image image(4, 2);
  const std::uint8_t values[2][4] = {{0, 1, 10, 20}, {2, 2, 30, 41}};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) {
      std::uint8_t* p = image.pixel(x, y);
      p[0] = values[y][x];
      p[1] = 255 - values[y][x];
      p[2] = 7;
      p[3] = 0;  // alpha is not averaged: small copies are opaque
    }
  const Image small = shrink_to_fit(image, 2);
  ASSERT_EQ(small.width, 2);
  ASSERT_EQ(small.height, 1);
  EXPECT_EQ(small.pixel(0, 0)[0], 1);    // (0 + 1 + 2 + 2) / 4 = 1.25
  EXPECT_EQ(small.pixel(1, 0)[0], 25);   // (10 + 20 + 30 + 41) / 4 = 25.25
  EXPECT_EQ(small.pixel(0, 0)[1], 254);  // 253.75 rounds up
  EXPECT_EQ(small.pixel(1, 0)[2], 7);
  EXPECT_EQ(small.pixel(1, 0)[3], 255);
  // Small enough already: the same pixels, opaque too (the GPU's shrink writes alpha 255 always).
  const Image same = shrink_to_fit(image, 4);
  ASSERT_EQ(same.width, 4);
  ASSERT_EQ(same.height, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) {
      EXPECT_EQ(same.pixel(x, y)[0], values[y][x]);
      EXPECT_EQ(same.pixel(x, y)[3], 255);
    }
}

TEST(FramePreview, HostFramesAreShrunkAndGpuFramesAreRefusedByTheCpuBackend) {
  const auto model = load_vae((test::fixtures_dir() / "tae4_decoder.safetensors").string());
  auto cpu = make_cpu_backend(model, 1);
  Frame frame;
  frame.resize_host(40, 24);
  for (std::size_t i = 0; i < frame.host_rgba.size(); ++i)
    frame.host_rgba[i] = static_cast<std::uint8_t>(i * 37);
  Image full(40, 24);
  full.rgba = frame.host_rgba;
  const Image preview = cpu->frame_preview(frame, 16);
  const Image expected = shrink_to_fit(full, 16);
  EXPECT_EQ(preview.width, 16);
  EXPECT_EQ(preview.height, 9);
  EXPECT_EQ(preview.rgba, expected.rgba);
  frame.location = PixelLocation::Device;
  try {
    cpu->frame_preview(frame, 16);
    FAIL() << "the CPU backend made a preview of a GPU frame";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("host frame"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dw::vae
