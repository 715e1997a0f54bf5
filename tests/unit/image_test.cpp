#include "core/image.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/files.h"
#include "support/test_support.h"

namespace dw {
namespace {

Image gradient(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(x * 255 / (w - 1));
      p[1] = static_cast<std::uint8_t>(y * 255 / (h - 1));
      p[2] = static_cast<std::uint8_t>((x + y) & 255);
      p[3] = 255;
    }
  return img;
}

TEST(Image, PngRoundTripIsLossless) {
  test::ScratchDir dir;
  const Image img = gradient(37, 19);
  save_png(img, dir / "a.png");
  const Image back = load_image(dir / "a.png");
  EXPECT_EQ(back.width, 37);
  EXPECT_EQ(back.height, 19);
  EXPECT_EQ(back.rgba, img.rgba);
}

// A side over its limit, or a pixel count over its own (within both sides), is refused from the
// header, with the size in the message.
TEST(Image, OversizedPicturesAreRefusedBeforeDecoding) {
  struct Case {
    int width, height;
    ImageLimits limits;
    std::string says;
  };
  ImageLimits narrow, few;
  narrow.max_width = 256;
  few.max_pixels = 1000;
  for (const Case& c : {Case{300, 20, narrow, "'server answer' is 300x20, outside the allowed"},
                        Case{40, 30, few, "'server answer' is 40x30, 0.0 megapixels, over the"}}) {
    const std::vector<std::uint8_t> png = encode_png(gradient(c.width, c.height));
    try {
      decode_image(png, "server answer", c.limits);
      ADD_FAILURE() << "a " << c.width << "x" << c.height << " picture passed";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    }
  }
  few.max_pixels = 1200;
  EXPECT_EQ(decode_image(encode_png(gradient(40, 30)), "exactly at the limit", few).width, 40);
}

TEST(Image, GarbageAndTruncatedBytesGiveAClearError) {
  const std::vector<std::uint8_t> garbage = {'G', 'I', 'F', '8', '9', 'a', 0, 1, 2};
  EXPECT_THROW(decode_image(garbage, "x.gif"), InputError);
  std::vector<std::uint8_t> png = encode_png(gradient(64, 64));
  png.resize(png.size() / 2);
  EXPECT_THROW(decode_image(png, "half.png"), InputError);
}

TEST(Image, ResizeCoverFillsTheTargetAndKeepsTheCentre) {
  Image src = gradient(200, 100);
  const Image out = resize_cover(src, 50, 50);
  EXPECT_EQ(out.width, 50);
  EXPECT_EQ(out.height, 50);
  // The centre column of the output samples the centre of the source (red ~ 127).
  EXPECT_NEAR(out.pixel(25, 25)[0], 128, 6);
}

TEST(Files, AtomicWriteReplacesWholeFile) {
  test::ScratchDir dir;
  write_file_atomic(dir / "s.json", std::string_view("{\"a\":1}"));
  write_file_atomic(dir / "s.json", std::string_view("{}"));
  const auto bytes = read_file(dir / "s.json", 100);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "{}");
  EXPECT_THROW(read_file(dir / "s.json", 1), InputError);
}

}  // namespace
}  // namespace dw
