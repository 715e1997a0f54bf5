#include "pipeline/prompt_source.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "core/error.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

PromptSettings settings_of(const Config& config) {
  return {LiveSection<PromptConfig>(config.prompts), LiveSection<ComfyConfig>(config.comfy)};
}

std::vector<Theme> three_themes() {
  return {{"a", {"pos a", "neg a"}, 1.0},
          {"b", {"pos b", "neg b"}, 1.0},
          {"c", {"pos c", "neg c"}, 1.0}};
}

TEST(PromptSource, RotatesEveryNKeyframesAndCarriesTheNegative) {
  Config config;
  config.prompts.rotate_every = 3;
  config.prompts.shuffle = false;
  config.prompts.time_of_day = false;
  PromptSource source(three_themes(), 1, settings_of(config));
  std::vector<std::string> seen;
  for (std::uint64_t k = 1; k <= 9; ++k) {
    const Prompt p = source.prompt_for(k);
    seen.push_back(p.positive);
    EXPECT_EQ(p.negative, "neg" + p.positive.substr(3));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"pos a", "pos a", "pos a", "pos b", "pos b", "pos b",
                                            "pos c", "pos c", "pos c"}));
}

// The operator's "next theme": the next prompt is the playlist's next theme, which then plays its
// full rotation from there.
TEST(PromptSource, SkipThemeMovesOnAtTheNextPromptAndRestartsTheRotation) {
  Config config;
  config.prompts.rotate_every = 3;
  config.prompts.shuffle = false;
  config.prompts.time_of_day = false;
  PromptSource source(three_themes(), 1, settings_of(config));
  std::vector<std::string> seen;
  for (std::uint64_t k = 1; k <= 8; ++k) {
    if (k == 2 || k == 6) source.skip_theme();
    seen.push_back(source.prompt_for(k).positive);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"pos a", "pos b", "pos b", "pos b", "pos c", "pos a",
                                            "pos a", "pos a"}));
  EXPECT_EQ(source.current_theme(), "a");
}

TEST(PromptSource, WeightedPlaylistPlaysEveryThemeEachRoundWithoutBackToBackRepeats) {
  Config config;
  config.prompts.rotate_every = 1;
  config.prompts.time_of_day = false;
  std::vector<Theme> themes = three_themes();
  themes[0].weight = 10;
  PromptSource source(themes, 99, settings_of(config));
  std::string previous;
  std::map<std::string, int> firsts;
  for (std::uint64_t k = 1; k <= 300; ++k) {
    const std::string p = source.prompt_for(k).positive;
    EXPECT_NE(p, previous) << "keyframe " << k;
    previous = p;
    if (k % 3 == 1) ++firsts[p];
  }
  EXPECT_GT(firsts["pos a"], firsts["pos b"]) << "the heavy theme tends to lead each round";
}

TEST(PromptSource, OverridesAndTimeOfDay) {
  Config config;
  config.prompts.time_of_day = true;
  config.comfy.negative = "my negative";
  PromptSource source(three_themes(), 1, settings_of(config), [] { return 6; });
  const Prompt p = source.prompt_for(1);
  EXPECT_NE(p.positive.find("dawn"), std::string::npos);
  EXPECT_EQ(p.negative, "my negative");
  EXPECT_EQ(time_of_day_modifier(23), time_of_day_modifier(2));
}

// A restart under a theme schedule: the saved theme, when the schedule's window holds it, plays
// on and the window's rotation goes on after it. It was dropped at the first prompt (the window,
// first seen then, reset the playlist): every restart of a scheduled installation cut its theme
// short and began the window again from its first theme.
TEST(PromptSource, ResumeUnderAScheduleContinuesTheSavedThemeInTheWindow) {
  Config config;
  config.prompts.rotate_every = 3;
  config.prompts.time_of_day = false;
  for (const bool shuffle : {false, true}) {
    SCOPED_TRACE(shuffle);
    config.prompts.shuffle = shuffle;
    PromptSettings settings = settings_of(config);
    settings.scheduled_themes = [] { return std::vector<std::string>{"b", "c"}; };
    PromptSource source(three_themes(), 1, settings);
    EXPECT_FALSE(source.resume_at("a", 40)) << "a is not in the window";
    ASSERT_TRUE(source.resume_at("c", 40));  // c began at keyframe 40; we go on at 42
    EXPECT_EQ(source.prompt_for(42).positive, "pos c");
    EXPECT_EQ(source.theme_started_at(), 40u);
    EXPECT_EQ(source.prompt_for(43).positive, "pos b");  // 40 + 3: the window's other theme
    EXPECT_EQ(source.prompt_for(46).positive, "pos c");
  }
}

TEST(Themes, ShippedThemesLoadAndBadFilesAreNamed) {
  const auto themes = load_themes((test::source_dir() / "assets/themes.toml").string());
  EXPECT_GE(themes.size(), 4u);
  for (const Theme& t : themes) {
    EXPECT_FALSE(t.prompt.positive.empty());
    EXPECT_FALSE(t.prompt.negative.empty()) << t.name;
  }
  test::ScratchDir dir;
  std::ofstream(dir / "t.toml") << "[[theme]]\nname = \"x\"\nweight = -1\npositive = \"p\"\n";
  try {
    load_themes(dir / "t.toml");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("theme 1: 'weight'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_themes(dir / "missing.toml"), InputError);
}

}  // namespace
}  // namespace dw::pipeline
