// The resume state: saved and read back, bounded writes, bad states refused with a reason, and
// the prompt rotation continuing from a saved theme position.
#include "pipeline/resume.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "pipeline/prompt_source.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

namespace fs = std::filesystem;

Image pattern(int w, int h, int seed) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(x * 3 + seed);
      p[1] = static_cast<std::uint8_t>(y * 5 + 2 * seed);
      p[2] = static_cast<std::uint8_t>((x ^ y) + seed);
      p[3] = 255;
    }
  return img;
}

ResumeState two_keyframes() {
  ResumeState s;
  s.keyframes = {{41, pattern(32, 24, 1)}, {42, pattern(32, 24, 2)}};
  s.theme = {"ocean", 36};
  return s;
}

std::size_t pngs_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".png";
  return n;
}

TEST(ResumeState, RoundTripsKeyframesPixelsIndexesAndTheme) {
  test::ScratchDir dir;
  save_resume_state(dir / "resume", two_keyframes());
  const auto back = load_resume_state(dir / "resume", 32, 24);
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->keyframes.size(), 2u);
  EXPECT_EQ(back->keyframes[0].index, 41u);
  EXPECT_EQ(back->keyframes[1].index, 42u);
  EXPECT_EQ(back->keyframes[1].image.rgba, pattern(32, 24, 2).rgba);
  EXPECT_EQ(back->theme.theme, "ocean");
  EXPECT_EQ(back->theme.started_at, 36u);
  EXPECT_GT(back->saved_at, 1.7e9);
}

TEST(ResumeState, NoStateIsNoResumeAndOldKeyframesAreRemoved) {
  test::ScratchDir dir;
  EXPECT_FALSE(load_resume_state(dir / "resume", 32, 24).has_value());
  save_resume_state(dir / "resume", two_keyframes());
  ResumeState next;
  next.keyframes = {{42, pattern(32, 24, 2)}, {43, pattern(32, 24, 3)}};
  // Keyframe 42's PNG is already there: only 43's PNG and the JSON are written.
  const std::size_t bytes = save_resume_state(dir / "resume", next, {41, 42});
  EXPECT_LT(bytes, 2 * encode_png(pattern(32, 24, 3)).size());
  EXPECT_EQ(pngs_in(dir.path() / "resume"), 2u);
  EXPECT_EQ(load_resume_state(dir / "resume", 32, 24)->keyframes.back().index, 43u);
  // Not known to be on disk (a new run whose indexes began again): written afresh.
  ResumeState fresh;
  fresh.keyframes = {{43, pattern(32, 24, 9)}};
  save_resume_state(dir / "resume", fresh);
  EXPECT_EQ(load_resume_state(dir / "resume", 32, 24)->keyframes.back().image.rgba,
            pattern(32, 24, 9).rgba);
}

TEST(ResumeState, UnusableStatesAreRefusedNamingWhatIsWrong) {
  const auto refused = [](const std::function<void(const fs::path&)>& spoil, int w, int h,
                          const std::string& why) {
    test::ScratchDir dir;
    save_resume_state(dir / "r", two_keyframes());
    spoil(dir.path() / "r");
    try {
      load_resume_state(dir / "r", w, h);
      ADD_FAILURE() << "accepted; expected: " << why;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  const auto write = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };
  refused([&](const fs::path& d) { write(d / "state.json", "{not json"); }, 32, 24,
          "not a JSON object");
  refused([&](const fs::path& d) { write(d / "state.json", R"({"version": 7})"); }, 32, 24,
          "version 7");
  refused(
      [&](const fs::path& d) {
        write(d / "state.json", R"({"version":1,"width":32,"height":24,"keyframes":[5,3]})");
      },
      32, 24, "increasing positive indexes");
  refused([&](const fs::path& d) { fs::remove(d / "keyframe-42.png"); }, 32, 24, "keyframe-42.png");
  refused([&](const fs::path& d) { write(d / "keyframe-41.png", "garbage"); }, 32, 24,
          "keyframe-41.png");
  refused([](const fs::path&) {}, 64, 48, "32x24 keyframes, the stream is 64x48");
}

TEST(ResumeStart, ABadStateIsASeedStartNeverAnException) {
  test::ScratchDir dir;
  fs::create_directories(dir.path() / "r");
  std::ofstream(dir / "r/state.json") << "\x01\x02 broken";
  const ResumeStart start = read_resume_start(dir / "r", 32, 24);
  EXPECT_TRUE(start.keyframes.empty());
  EXPECT_NE(start.source.find("could not be used"), std::string::npos) << start.source;
  save_resume_state(dir / "r", two_keyframes());
  const ResumeStart good = read_resume_start(dir / "r", 32, 24);
  ASSERT_EQ(good.keyframes.size(), 2u);
  EXPECT_NE(good.source.find("keyframe 42"), std::string::npos) << good.source;
  EXPECT_EQ(resume_dir_for("/a/b/status.json"), "/a/b/resume");
}

TEST(ResumeWriter, SavesAtMostOncePerIntervalAndTheLastKeyframeAtStop) {
  test::ScratchDir dir;
  {
    ResumeWriter writer({dir / "r", /*every_s=*/3600, /*mb_per_day=*/0});
    writer.offer(1, pattern(16, 16, 1), {"a", 1});
    ASSERT_TRUE(test::wait_until([&] { return writer.stats().saves == 1; }));
    for (std::uint64_t k = 2; k <= 20; ++k) writer.offer(k, pattern(16, 16, int(k)), {"b", 12});
    EXPECT_EQ(writer.stats().saves, 1u) << "the next save is an hour away";
    writer.stop();
    EXPECT_EQ(writer.stats().saves, 2u);
    EXPECT_EQ(writer.stats().last_saved_keyframe, 20u);
  }
  const auto state = load_resume_state(dir / "r", 16, 16);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->keyframes.front().index, 19u);
  EXPECT_EQ(state->keyframes.back().index, 20u);
  EXPECT_EQ(state->keyframes.back().image.rgba, pattern(16, 16, 20).rgba);
  EXPECT_EQ(state->theme.theme, "b");
  EXPECT_EQ(pngs_in(dir.path() / "r"), 2u);
}

// A save that failed (a folder that could not be made: here a file stands in its place) is not
// taken as done: once the folder can be made, it is saved again without a further keyframe (the
// generation may be paused), after every_s or at stop.
TEST(ResumeWriter, AFailedSaveIsTriedAgainWithoutANewKeyframe) {
  test::ScratchDir dir;
  for (const double every_s : {0.05, 3600.0}) {
    const fs::path where = dir / (every_s < 1 ? "soon" : "at_stop");
    std::ofstream(where) << "not a folder";
    ResumeWriter writer({where, every_s, /*mb_per_day=*/0});
    writer.offer(7, pattern(16, 16, 7), {"a", 1});
    ASSERT_TRUE(test::wait_until([&] { return writer.stats().failures >= 1; }));
    EXPECT_EQ(writer.stats().saves, 0u);
    fs::remove(where);
    if (every_s < 1) {
      EXPECT_TRUE(test::wait_until([&] { return writer.stats().saves == 1; }))
          << "tried again after every_s";
    }
    writer.stop();
    EXPECT_EQ(writer.stats().saves, 1u) << every_s;
    const auto state = load_resume_state(where, 16, 16);
    ASSERT_TRUE(state.has_value()) << every_s;
    EXPECT_EQ(state->keyframes.back().index, 7u);
  }
}

TEST(PromptSource, ResumeAtContinuesTheSavedThemeAndItsRotation) {
  Config config;
  config.prompts.rotate_every = 3;
  config.prompts.shuffle = false;
  config.prompts.time_of_day = false;
  const std::vector<Theme> themes = {
      {"a", {"pos a", ""}, 1.0}, {"b", {"pos b", ""}, 1.0}, {"c", {"pos c", ""}, 1.0}};
  PromptSource source(
      themes, 1,
      {LiveSection<PromptConfig>(config.prompts), LiveSection<ComfyConfig>(config.comfy)});
  EXPECT_FALSE(source.resume_at("no such theme", 10));
  ASSERT_TRUE(source.resume_at("b", 40));  // b began at keyframe 40; we go on at 42
  EXPECT_EQ(source.prompt_for(42).positive, "pos b");
  EXPECT_EQ(source.current_theme(), "b");
  EXPECT_EQ(source.theme_started_at(), 40u);
  EXPECT_EQ(source.prompt_for(43).positive, "pos c");  // 40 + 3: the next in the file's order
}

}  // namespace
}  // namespace dw::pipeline
