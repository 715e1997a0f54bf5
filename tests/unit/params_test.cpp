#include "core/params.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "app/cli.h"
#include "support/test_support.h"

namespace dw {
namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(ParamTable, KeysAreUniqueAndDefaultsAreInRange) {
  std::set<std::string> keys;
  const Config defaults = default_config();
  for (const ParamSpec& p : param_table()) {
    EXPECT_TRUE(keys.insert(p.key).second) << "duplicate key " << p.key;
    EXPECT_FALSE(p.help.empty()) << p.key;
    EXPECT_EQ(p.validate(defaults), std::nullopt) << p.key;
  }
  EXPECT_GT(keys.size(), 40u);
}

TEST(ParamTable, PrintedConfigReadsBackToTheSameValues) {
  test::ScratchDir dir;
  Config c = default_config();
  c.display.gamma = 1.7;
  c.display.fit = FitMode::Stretch;
  c.comfy.urls = {"http://a:8188", "http://b:8188"};
  c.comfy.positive = "a \"quoted\" prompt\twith tab";
  c.interpolation.frames_between = 24;
  c.log_level = LogLevel::Debug;
  write(dir / "c.toml", config_to_toml(c));
  Config back = default_config();
  ASSERT_EQ(load_config_file(dir / "c.toml", back), std::nullopt);
  EXPECT_EQ(config_to_toml(back), config_to_toml(c));
  EXPECT_EQ(back.comfy.urls.size(), 2u);
  EXPECT_EQ(back.comfy.positive, c.comfy.positive);
}

// The overlay and the HTTP API send a list as its text (["a", "b"]); the items used to be split at
// commas, brackets and quotes kept, so no list could be edited live and comfy.urls was corrupted.
TEST(ParamText, EveryListReadsBackFromItsOwnTextWhateverItsItemsHold) {
  const std::vector<std::string> tricky = {"plain",       "a, b",        "say \"hi\"",
                                           "back\\slash", "[bracketed]", " spaced "};
  for (const ParamSpec& p : param_table()) {
    if (p.type != ParamType::StringList) continue;
    Config written = default_config();
    p.as_list(written) = tricky;
    Config read = default_config();
    ASSERT_EQ(p.set_from_text(read, p.value_text(written)), std::nullopt) << p.key;
    EXPECT_EQ(p.as_list(read), tricky) << p.key;
  }
}

TEST(ParamText, ACommandLineListIsCommaSeparatedAndABadArrayIsNamed) {
  std::vector<std::string> items;
  ASSERT_FALSE(parse_list_text(" http://a:8188, http://b:8188,", items));
  EXPECT_EQ(items, (std::vector<std::string>{"http://a:8188", "http://b:8188"}));
  ASSERT_FALSE(parse_list_text("[]", items));
  EXPECT_TRUE(items.empty());
  const auto number = parse_list_text(R"(["a", 3])", items);
  ASSERT_TRUE(number);
  EXPECT_NE(number->find("not a quoted string"), std::string::npos) << *number;
  const auto open = parse_list_text(R"(["a")", items);
  ASSERT_TRUE(open);
  EXPECT_NE(open->find("not a list of quoted strings"), std::string::npos) << *open;
  Config c = default_config();
  const auto err = find_param("comfy.urls")->set_from_text(c, R"(["http://a:8188)");
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("comfy.urls"), std::string::npos) << *err;
  EXPECT_EQ(c.comfy.urls, default_config().comfy.urls) << "a refused list changes nothing";
}

TEST(ConfigFile, UnknownKeyIsNamedWithASuggestion) {
  test::ScratchDir dir;
  write(dir / "c.toml", "[display]\ngama = 1.2\n");
  Config c = default_config();
  const auto err = load_config_file(dir / "c.toml", c);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("display.gama"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("did you mean 'display.gamma'"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("line 2"), std::string::npos) << err->message;
}

TEST(ConfigFile, WrongTypeNamesKeyValueAndAllowed) {
  test::ScratchDir dir;
  write(dir / "c.toml", "[interpolation]\nframes_between = \"ten\"\n");
  Config c = default_config();
  const auto err = load_config_file(dir / "c.toml", c);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("interpolation.frames_between"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("ten"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("an integer in [0, 240]"), std::string::npos) << err->message;
}

TEST(ConfigFile, OutOfRangeValueIsRefusedAndConfigUnchanged) {
  test::ScratchDir dir;
  write(dir / "c.toml", "[display]\nvsync = false\ngamma = 9.5\n");
  Config c = default_config();
  const auto err = load_config_file(dir / "c.toml", c);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("display.gamma = 9.5 is out of range"), std::string::npos)
      << err->message;
  EXPECT_TRUE(c.display.vsync) << "a failed load must not half-apply";
}

TEST(ConfigFile, MalformedTomlReportsLine) {
  test::ScratchDir dir;
  write(dir / "c.toml", "[display]\nfit = \"cover\n");
  Config c = default_config();
  const auto err = load_config_file(dir / "c.toml", c);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("not valid TOML"), std::string::npos) << err->message;
}

TEST(ConfigFile, MissingFileIsAClearError) {
  Config c = default_config();
  const auto err = load_config_file("/nonexistent/dreamwindow.toml", c);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("/nonexistent/dreamwindow.toml"), std::string::npos);
}

TEST(CommandLine, FlagsOverrideTheFileAndBadChoicesListTheAllowedOnes) {
  test::ScratchDir dir;
  write(dir / "c.toml", "[display]\nfit = \"contain\"\ngamma = 1.5\n");
  const std::string path = dir / "c.toml";
  {
    const char* argv[] = {"dreamwindow", "--config", path.c_str(), "--display.gamma", "2.2"};
    CommandLine cl = parse_command_line(5, argv);
    ASSERT_EQ(cl.exit_code, -1) << cl.message;
    EXPECT_EQ(cl.config.display.fit, FitMode::Contain);
    EXPECT_DOUBLE_EQ(cl.config.display.gamma, 2.2);
  }
  {
    const char* argv[] = {"dreamwindow", "--display.fit=zoom"};
    CommandLine cl = parse_command_line(2, argv);
    EXPECT_EQ(cl.exit_code, 2);
    EXPECT_NE(cl.message.find("one of cover, contain, stretch"), std::string::npos) << cl.message;
  }
}

}  // namespace
}  // namespace dw
