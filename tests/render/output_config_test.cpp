// The [[output]] tables of the config file: every field read, written back by --print-config to
// the same values, and each bad value refused naming the output, its line and the field.
#include <gtest/gtest.h>

#include <fstream>

#include "core/image.h"
#include "core/params.h"
#include "support/test_support.h"

namespace dw {
namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

const char* kTwoOutputs = R"(
[canvas]
width = 1920
height = 1080

[[output]]
display = 0
mode = "borderless"
region = [0.0, 0.0, 0.55, 1.0]
blend_right = 0.1818
blend_curve = 2.0
black_lift = 0.02
corners = [[0.02, 0.0], [1.0, 0.05], [0.97, 1.0], [0.0, 0.96]]

[[output]]
display = 1
mode = "windowed"
width = 800
height = 600
region = [0.45, 0.0, 0.55, 1.0]
rotate = 90
flip_h = true
blend_left = 0.1818
mesh = { rows = 2, cols = 3, points = [[0, 0], [0.5, 0.05], [1, 0], [0, 1], [0.5, 0.95], [1, 1]] }
gamma = 1.1
brightness = 0.9
)";

TEST(OutputConfig, TwoOutputsAreReadAndWrittenBackToTheSameValues) {
  test::ScratchDir dir;
  write(dir / "c.toml", kTwoOutputs);
  Config c = default_config();
  ASSERT_EQ(load_config_file(dir / "c.toml", c), std::nullopt);
  EXPECT_EQ(c.outputs.canvas_width, 1920);
  ASSERT_EQ(c.outputs.outputs.size(), 2u);
  const OutputConfig& a = c.outputs.outputs[0];
  const OutputConfig& b = c.outputs.outputs[1];
  EXPECT_EQ(a.mode, OutputMode::Borderless);
  EXPECT_DOUBLE_EQ(a.region.w, 0.55);
  EXPECT_DOUBLE_EQ(a.blend.right, 0.1818);
  EXPECT_DOUBLE_EQ(a.blend.curve, 2.0);
  EXPECT_DOUBLE_EQ(a.corners[1].y, 0.05);
  EXPECT_EQ(b.display, 1);
  EXPECT_EQ(b.width, 800);
  EXPECT_EQ(b.rotate, 90);
  EXPECT_TRUE(b.flip_h);
  EXPECT_EQ(b.mesh.cols, 3);
  EXPECT_DOUBLE_EQ(b.mesh.points[4].y, 0.95);
  EXPECT_DOUBLE_EQ(b.brightness, 0.9);
  EXPECT_EQ(validate_config(c), std::nullopt);

  const std::string printed = config_to_toml(c);
  write(dir / "back.toml", printed);
  Config back = default_config();
  ASSERT_EQ(load_config_file(dir / "back.toml", back), std::nullopt) << printed;
  EXPECT_EQ(back.outputs.outputs, c.outputs.outputs);
  EXPECT_EQ(config_to_toml(back), printed);
}

TEST(OutputConfig, NoOutputTablesMeansNoOutputs) {
  const Config c = default_config();
  EXPECT_TRUE(c.outputs.outputs.empty());
  EXPECT_EQ(config_to_toml(c).find("\n[[output]]\n"), std::string::npos);
}

// The error for a config whose only output has `body`.
std::string error_for(const std::string& body) {
  test::ScratchDir dir;
  write(dir / "c.toml", "[display]\nvsync = true\n\n[[output]]\n" + body);
  Config c = default_config();
  const auto err = load_config_file(dir / "c.toml", c);
  return err ? err->message : "";
}

TEST(OutputConfig, BadValuesAreNamedWithOutputLineAndField) {
  std::string e = error_for("corners = [[0, 0], [1, 0], [0, 1], [1, 1]]\n");
  EXPECT_NE(e.find("output 1 ([[output]] at line 4)"), std::string::npos) << e;
  EXPECT_NE(e.find("corners [0, 0], [1, 0], [0, 1], [1, 1] fold the quad"), std::string::npos) << e;
  e = error_for("region = [0.5, 0, 0.6, 1]\n");
  EXPECT_NE(e.find("region = [0.5, 0, 0.6, 1] is out of range"), std::string::npos) << e;
  e = error_for("rotate = 45\n");
  EXPECT_NE(e.find("rotate = 45"), std::string::npos) << e;
  e = error_for("blend_left = \"wide\"\n");
  EXPECT_NE(e.find("blend_left = 'wide' (line 5) has the wrong type"), std::string::npos) << e;
  e = error_for("blend_left = 0.6\nblend_right = 0.6\n");
  EXPECT_NE(e.find("blend widths overlap"), std::string::npos) << e;
  e = error_for("colour = 1\n");
  EXPECT_NE(e.find("unknown key 'colour' (line 5)"), std::string::npos) << e;
  e = error_for("mode = \"spanning\"\n");
  EXPECT_NE(e.find("one of windowed, borderless, fullscreen"), std::string::npos) << e;
  e = error_for("mesh = { rows = 2, cols = 2, points = [[0, 0], [1, 0], [1, 1], [0, 1]] }\n");
  EXPECT_NE(e.find("mesh cell at row 0, col 0 is folded"), std::string::npos) << e;
  e = error_for("gamma = 0\n");
  EXPECT_NE(e.find("gamma = 0 is out of range"), std::string::npos) << e;
  // A plain table instead of an array of tables.
  test::ScratchDir dir;
  write(dir / "c.toml", "[output]\ndisplay = 0\n");
  Config c = default_config();
  const auto err = load_config_file(dir / "c.toml", c);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("[[output]]"), std::string::npos) << err->message;
}

TEST(OutputConfig, MasksMustBeReadableAndOfTheOutputsSize) {
  test::ScratchDir dir;
  save_png(Image(64, 32), dir / "mask.png");
  write(dir / "bad.png", "not a png");
  // A relative mask path is the config file's neighbour.
  write(dir / "c.toml", "[[output]]\nwidth = 64\nheight = 32\nmask = \"mask.png\"\n");
  Config c = default_config();
  ASSERT_EQ(load_config_file(dir / "c.toml", c), std::nullopt);
  EXPECT_EQ(c.outputs.outputs[0].mask, dir / "mask.png");
  EXPECT_EQ(check_paths(c), std::nullopt);
  c.outputs.outputs[0].width = 100;
  auto err = check_paths(c);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("output 1: mask"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("is 64x32 but the output is 100x32"), std::string::npos)
      << err->message;
  c.outputs.outputs[0].mask = dir / "bad.png";
  err = check_paths(c);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("cannot be read"), std::string::npos) << err->message;
  c.outputs.outputs[0].mask = dir / "missing.png";
  EXPECT_TRUE(check_paths(c).has_value());
}

}  // namespace
}  // namespace dw
