// The keyframe archive: PNG + JSON per keyframe, the folder kept under its bound by removing the
// oldest keyframes first, an unwritable folder a counted failure rather than a stop.
#include "record/keyframe_archive.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/files.h"
#include "support/test_support.h"
#include "video_check.h"

namespace dw::record {
namespace {

namespace fs = std::filesystem;
constexpr auto kDeadline = std::chrono::milliseconds(60000);

std::vector<std::string> names_in(const fs::path& dir, const std::string& ext) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(KeyframeArchive, WritesPngAndJsonAndRemovesTheOldestBeyondTheBound) {
  test::ScratchDir dir;
  const Image probe = test::noisy_frame(64, 64, 0);
  const std::uint64_t one = encode_png(probe).size() + 40;  // about one keyframe's bytes
  KeyframeArchive archive(dir.path().string(), one * 3 + one / 2);
  for (std::uint64_t k = 1; k <= 8; ++k) {
    ASSERT_TRUE(archive.submit(k, test::noisy_frame(64, 64, static_cast<int>(k)),
                               "{\"index\": " + std::to_string(k) + ", \"seed\": 42}"));
  }
  ASSERT_TRUE(archive.wait_idle(kDeadline));
  const auto pngs = names_in(dir.path(), ".png");
  const auto jsons = names_in(dir.path(), ".json");
  ASSERT_EQ(pngs.size(), 3u);
  ASSERT_EQ(jsons.size(), 3u);
  EXPECT_TRUE(pngs.back().ends_with("00000008.png")) << pngs.back();
  EXPECT_TRUE(pngs.front().ends_with("00000006.png")) << pngs.front();
  const ArchiveStats stats = archive.stats();
  EXPECT_EQ(stats.written, 8u);
  EXPECT_EQ(stats.removed, 5u);
  EXPECT_LE(stats.bytes, one * 3 + one / 2);
  const auto json = read_file((dir.path() / jsons.back()).string(), 1 << 20);
  EXPECT_EQ(std::string(json.begin(), json.end()), "{\"index\": 8, \"seed\": 42}");
  const Image back = load_image((dir.path() / pngs.back()).string());
  EXPECT_EQ(back.width, 64);
}

// An earlier run whose names sort after this run's (its wall-clock stamp is later: the clocks
// went back an hour, or the clock was not yet set at boot) is still the older one: its keyframes
// go first and this run's new keyframes are kept.
TEST(KeyframeArchive, AnEarlierRunStampedLaterIsStillRemovedFirst) {
  test::ScratchDir dir;
  const Image frame = test::noisy_frame(64, 64, 0);
  const std::uint64_t one = encode_png(frame).size() + 40;
  for (int k = 1; k <= 3; ++k) {
    const std::string base = fmt::format("keyframe-29991231-235959-{:08}", k);
    save_png(frame, (dir.path() / (base + ".png")).string());
    std::ofstream(dir.path() / (base + ".json")) << "{}";
  }
  KeyframeArchive archive(dir.path().string(), one * 3 + one / 2);
  for (std::uint64_t k = 1; k <= 3; ++k)
    ASSERT_TRUE(archive.submit(k, test::noisy_frame(64, 64, static_cast<int>(k)), "{}"));
  ASSERT_TRUE(archive.wait_idle(kDeadline));
  const auto pngs = names_in(dir.path(), ".png");
  ASSERT_EQ(pngs.size(), 3u);
  for (const std::string& name : pngs)
    EXPECT_FALSE(name.starts_with("keyframe-2999")) << "the earlier run's " << name << " stayed";
  EXPECT_EQ(archive.stats().removed, 3u);
}

// Past 10^8 keyframes in one run (years at a keyframe a second) the index outgrows its
// zero-padding: keyframe 100000000 is still newer than 99999999, and it is the one kept.
TEST(KeyframeArchive, AnIndexPastEightDigitsIsStillTheNewest) {
  test::ScratchDir dir;
  KeyframeArchive archive(dir.path().string(), 1);  // keeps only the newest keyframe
  archive.submit(99999999, test::synthetic_frame(32, 32, 1), "{}");
  archive.submit(100000000, test::synthetic_frame(32, 32, 2), "{}");
  ASSERT_TRUE(archive.wait_idle(kDeadline));
  const auto pngs = names_in(dir.path(), ".png");
  ASSERT_EQ(pngs.size(), 1u);
  EXPECT_NE(pngs.front().find("-100000000.png"), std::string::npos) << pngs.front();
}

TEST(KeyframeArchive, OtherFilesInTheFolderAreLeftAlone) {
  test::ScratchDir dir;
  std::ofstream(dir / "notes.txt") << std::string(100000, 'x');
  KeyframeArchive archive(dir.path().string(), 1);  // keeps only the newest keyframe
  archive.submit(1, test::synthetic_frame(32, 32, 1), "{}");
  archive.submit(2, test::synthetic_frame(32, 32, 2), "{}");
  ASSERT_TRUE(archive.wait_idle(kDeadline));
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
  EXPECT_EQ(names_in(dir.path(), ".png").size(), 1u);
}

TEST(KeyframeArchive, UnwritableFolderCountsFailuresAndGoesOn) {
  test::ScratchDir scratch;
  const std::string blocker = scratch / "a-file";
  std::ofstream(blocker) << "x";
  KeyframeArchive archive(blocker + "/archive", 1 << 20);
  archive.submit(1, test::synthetic_frame(32, 32, 1), "{}");
  archive.submit(2, test::synthetic_frame(32, 32, 2), "{}");
  ASSERT_TRUE(archive.wait_idle(kDeadline));
  EXPECT_EQ(archive.stats().failed, 2u);
  EXPECT_NE(archive.stats().last_error.find(blocker), std::string::npos);
}

// record.mount: while nothing is mounted where the archive goes, keyframes are not written and
// the folder is not made (it would be on the system disk, under the mount point); status says
// why, and once the disk takes them (here: the check turned off) they are written and the
// error is gone from status.
TEST(KeyframeArchive, WaitsForTheDiskOfRecordMount) {
  test::ScratchDir scratch;
  const fs::path mount_point = scratch / "usb";
  fs::create_directories(mount_point);
  const std::string dir = (mount_point / "archive").string();
  KeyframeArchive archive(dir, 1 << 20);
  archive.set_mount(mount_point.string());
  archive.submit(1, test::synthetic_frame(32, 32, 1), "{}");
  ASSERT_TRUE(archive.wait_idle(kDeadline));
  EXPECT_EQ(archive.stats().failed, 1u);
  EXPECT_NE(archive.stats().last_error.find("record.archive_dir " + dir + ": nothing is mounted"),
            std::string::npos)
      << archive.stats().last_error;
  EXPECT_TRUE(fs::is_empty(mount_point));
  archive.set_mount("");
  archive.submit(2, test::synthetic_frame(32, 32, 2), "{}");
  ASSERT_TRUE(archive.wait_idle(kDeadline));
  EXPECT_EQ(archive.stats().written, 1u);
  EXPECT_EQ(archive.stats().last_error, "");
}

// record.archive_max_mb lowered while no keyframe comes (generation paused): the archive shrinks
// to the new bound now, not at the next keyframe.
TEST(KeyframeArchive, ALoweredBoundRemovesTheOldestWithoutANewKeyframe) {
  test::ScratchDir dir;
  KeyframeArchive archive(dir.path().string(), 1 << 30);
  for (std::uint64_t k = 1; k <= 4; ++k)
    ASSERT_TRUE(archive.submit(k, test::noisy_frame(64, 64, static_cast<int>(k)), "{}"));
  ASSERT_TRUE(archive.wait_idle(kDeadline));
  ASSERT_EQ(names_in(dir.path(), ".png").size(), 4u);
  archive.set_max_bytes(1);  // keeps only the newest keyframe
  ASSERT_TRUE(test::wait_until([&] { return archive.stats().removed == 3; }, kDeadline));
  const auto pngs = names_in(dir.path(), ".png");
  ASSERT_EQ(pngs.size(), 1u);
  EXPECT_TRUE(pngs.front().ends_with("00000004.png")) << pngs.front();
  EXPECT_EQ(archive.stats().written, 4u);
  EXPECT_LT(archive.stats().bytes, fs::file_size(dir.path() / pngs.front()) + 100);
}

// A disk full of keyframes: every write fails (here the file size limit refuses the PNG, as a
// full disk refuses it), and the oldest keyframes beyond the bound still go, in a child process
// so that the limit touches nothing else.
TEST(KeyframeArchiveDeathTest, AFailedWriteStillRemovesTheOldestBeyondTheBound) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  test::ScratchDir dir;
  const Image frame = test::noisy_frame(64, 64, 0);
  const std::uint64_t one = encode_png(frame).size() + 2;
  for (int k = 1; k <= 4; ++k) {
    const std::string base = fmt::format("keyframe-20000101-000000-{:08}", k);
    save_png(frame, (dir.path() / (base + ".png")).string());
    std::ofstream(dir.path() / (base + ".json")) << "{}";
  }
  const auto child = [&] {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{1024, 1024};  // far below one PNG
    setrlimit(RLIMIT_FSIZE, &limit);
    KeyframeArchive archive(dir.path().string(), one * 2 + one / 2);
    archive.submit(5, test::noisy_frame(64, 64, 5), "{}");
    if (!archive.wait_idle(kDeadline)) std::_Exit(3);
    const ArchiveStats stats = archive.stats();
    std::fprintf(stderr, "failed %d removed %d pngs %d\n", static_cast<int>(stats.failed),
                 static_cast<int>(stats.removed),
                 static_cast<int>(names_in(dir.path(), ".png").size()));
    std::_Exit(0);
  };
  EXPECT_EXIT(child(), testing::ExitedWithCode(0), "failed 1 removed 2 pngs 2");
}

}  // namespace
}  // namespace dw::record
