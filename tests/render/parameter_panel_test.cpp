// The parameter panel's logic without a display: edits (live ones published, restart ones kept),
// save into the config file and reading it back, and which sections say they are not used.
#include "render/parameter_panel.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace dw::render {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ParameterPanel, LiveEditsPublishRestartEditsWait) {
  ConfigStore store(default_config());
  ParameterPanel panel(store, "unused.toml");
  ASSERT_FALSE(panel.edit("display.gamma", "1.5"));
  EXPECT_DOUBLE_EQ(store.get()->display.gamma, 1.5) << "a live edit is published at once";
  ASSERT_FALSE(panel.edit("display.width", "640"));
  EXPECT_EQ(store.get()->display.width, default_config().display.width)
      << "a restart edit never reaches the running program";
  EXPECT_EQ(panel.view().display.width, 640) << "but the panel shows it";
  EXPECT_EQ(panel.unsaved(), 2u);
}

TEST(ParameterPanel, RefusesBadEditsNamingKeyAndValue) {
  ConfigStore store(default_config());
  ParameterPanel panel(store, "unused.toml");
  const auto unknown = panel.edit("display.gama", "1");
  ASSERT_TRUE(unknown);
  EXPECT_NE(unknown->find("display.gama"), std::string::npos);
  const auto range = panel.edit("display.gamma", "9");
  ASSERT_TRUE(range);
  EXPECT_NE(range->find("display.gamma"), std::string::npos);
  const auto missing = panel.edit("vae.decoder", "/nonexistent/vae.safetensors");
  ASSERT_TRUE(missing) << "a missing input would stop the next start";
  EXPECT_NE(missing->find("vae.decoder"), std::string::npos);
  EXPECT_NE(missing->find("no such file"), std::string::npos);
  EXPECT_EQ(panel.edits(), 0u);
  EXPECT_EQ(panel.view().vae.decoder_path, default_config().vae.decoder_path);
}

TEST(ParameterPanel, SaveWritesEditsAndKeepsTheFilesOwnValues) {
  test::ScratchDir dir;
  const auto path = dir.path() / "sub" / "config.toml";
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << "[display]\nbrightness = 1.25\n";
  ConfigStore store(default_config());
  ParameterPanel panel(store, path.string());
  ASSERT_FALSE(panel.edit("comfy.urls", "http://a:1, http://b:2"));
  ASSERT_FALSE(panel.edit("display.gamma", "2"));
  ASSERT_FALSE(panel.save());
  EXPECT_EQ(panel.unsaved(), 0u);

  Config back = default_config();
  ASSERT_FALSE(load_config_file(path.string(), back)) << read_text(path);
  EXPECT_EQ(back.comfy.urls, (std::vector<std::string>{"http://a:1", "http://b:2"}));
  EXPECT_DOUBLE_EQ(back.display.gamma, 2.0);
  EXPECT_DOUBLE_EQ(back.display.brightness, 1.25) << "the file's own value is kept";
  EXPECT_EQ(read_text(path).find("ring_capacity"), std::string::npos)
      << "untouched defaults are not pinned in the file";
}

TEST(ParameterPanel, SaveLeavesAFileThatDoesNotParseAlone) {
  test::ScratchDir dir;
  const auto path = dir.path() / "config.toml";
  std::ofstream(path) << "[display\n";
  ConfigStore store(default_config());
  ParameterPanel panel(store, path.string());
  ASSERT_FALSE(panel.edit("display.gamma", "2"));
  const auto err = panel.save();
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("not saved"), std::string::npos) << *err;
  EXPECT_EQ(read_text(path), "[display\n");
  EXPECT_EQ(panel.unsaved(), 1u);
}

TEST(ParameterPanel, SectionsSayWhyTheyAreNotUsed) {
  Config c = default_config();
  c.source.kind = SourceKind::Auto;
  c.comfy.urls.clear();
  EXPECT_NE(section_unused_reason("comfy", c).find("source is offline"), std::string::npos);
  EXPECT_NE(section_unused_reason("prompts", c).find("source is offline"), std::string::npos);
  EXPECT_EQ(section_unused_reason("display", c), "");
  c.comfy.urls = {"http://a:1"};
  EXPECT_EQ(section_unused_reason("comfy", c), "");
  c.source.kind = SourceKind::Folder;
  EXPECT_NE(section_unused_reason("comfy", c).find("source is folder"), std::string::npos);
}

// A range from 0 is linear: idle_motion 1 of [0, 2] sits in the middle, not near the right end as
// a logarithmic slider puts it. Only a wide range of positive values is logarithmic.
TEST(ParameterPanel, SlidersAreLogarithmicOnlyForWidePositiveRanges) {
  for (const char* key : {"display.idle_motion", "display.brightness", "display.gamma"}) {
    ASSERT_NE(find_param(key), nullptr) << key;
    EXPECT_FALSE(slider_logarithmic(*find_param(key))) << key;
  }
  for (const char* key : {"comfy.request_timeout_s", "comfy.stall_timeout_s"}) {
    ASSERT_NE(find_param(key), nullptr) << key;
    EXPECT_TRUE(slider_logarithmic(*find_param(key))) << key;
  }
  ParamSpec p = *find_param("display.brightness");
  p.min = 0;
  p.max = 1e6;
  EXPECT_FALSE(slider_logarithmic(p)) << "from 0, however wide";
}

// Decimals from the range and the value: a timeout of 60 s reads "60", not "60.000".
TEST(ParameterPanel, SliderFormatFollowsRangeAndValue) {
  const auto format = [](const char* key, double value) {
    return slider_format(*find_param(key), value);
  };
  EXPECT_EQ(format("comfy.request_timeout_s", 60), "%.0f");
  EXPECT_EQ(format("comfy.request_timeout_s", 60.5), "%.1f") << "the value's own decimals stay";
  EXPECT_EQ(format("display.brightness", 1), "%.2f");
  EXPECT_EQ(format("display.idle_motion", 1), "%.2f");
  EXPECT_EQ(format("comfy.connect_timeout_s", 5), "%.1f") << "the range starts at 0.1";
  EXPECT_EQ(format("display.gamma", 1.2345678), "%.3f") << "at most 3 decimals";
  EXPECT_EQ(format("display.gamma", static_cast<float>(1.3)), "%.2f")
      << "a value back from the float slider is not taken for one with many decimals";
}

}  // namespace
}  // namespace dw::render
