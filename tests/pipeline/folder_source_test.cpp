// The folder source reading its folder again while it runs: images added, removed or replaced are
// shown without a restart, a folder missing at start is used once it appears, and a folder that
// goes away or empties never empties the show. Every wait is for the event, with a deadline.
#include "pipeline/folder_source.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/image.h"
#include "pipeline/folder_test_support.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

using namespace folder_test;  // NOLINT(google-build-using-namespace): the tests' own helpers

std::vector<FolderImage> stand_in(std::uint8_t red) {
  return {FolderImage{"stand-in", std::make_shared<const Image>(flat(red))}};
}

// Takes keyframes through the source's interface, as the orchestrator does.
struct Taker {
  KeyframeSource& source;
  std::uint64_t index = 0;
  std::string origin;
  int next() {
    EXPECT_TRUE(source.submit(KeyframeRequest{++index, {}, {}, 0}));
    auto k = source.next(std::stop_token{}, 5s);
    if (!k) {
      ADD_FAILURE() << "no keyframe for request " << index;
      return -1;
    }
    origin = k->origin;
    return k->image.pixel(kSize / 2, kSize / 2)[0];
  }
  // Takes keyframes until one shows `red`, within the deadline.
  bool reaches(int red, std::chrono::milliseconds within = 10s) {
    return test::wait_until([&] { return next() == red; }, within);
  }
};

std::unique_ptr<FolderKeyframeSource> watching(const fs::path& dir, std::uint8_t stand_in_red = 7) {
  ImageFolder folder(dir, kSize, kSize);
  folder.scan();
  return std::make_unique<FolderKeyframeSource>(std::move(folder), stand_in(stand_in_red),
                                                "the stand-in", 20ms);
}

TEST(FolderSource, ALargeFolderIsShownAtOnceAndTakenInAsItIsRead) {
  test::ScratchDir dir;
  put_large_pictures(dir.path());
  ImageFolder folder(dir.path(), kSize, kSize);
  folder.read_for(1ms);
  folder.scan();  // as at start: the first picture only
  ASSERT_EQ(folder.images().size(), 1u);
  FolderKeyframeSource source(std::move(folder), stand_in(7), "the stand-in", 20ms);
  Taker take{source};
  EXPECT_EQ(take.next(), 10) << "the first picture read is shown at once";
  ASSERT_TRUE(test::wait_until([&] {
    const FolderStatus s = source.folder_status();
    return s.images == 4 && s.unread == 0;
  })) << "the rest of the folder is never read";
  EXPECT_EQ(source.folder_status().problem, "");
  std::set<int> shown;
  for (int i = 0; i < 8; ++i) shown.insert(take.next());
  EXPECT_EQ(shown, (std::set<int>{10, 20, 30, 40}));
}

std::unique_ptr<FolderKeyframeSource> watching_with_budget(
    const fs::path& dir, std::uint64_t bytes,
    std::size_t read_ahead = FolderKeyframeSource::kReadAhead) {
  ImageFolder folder(dir, kSize, kSize);
  folder.hold_up_to(bytes);
  folder.scan();
  return std::make_unique<FolderKeyframeSource>(std::move(folder), stand_in(7), "the stand-in",
                                                20ms, read_ahead);
}

TEST(FolderSource, ImagesNotHeldAreReadAheadAndShownInOrder) {
  test::ScratchDir dir;
  put_six(dir.path());
  auto source = watching_with_budget(dir.path(), 2 * kImageBytes);  // a, b held
  EXPECT_EQ(source->folder_status().on_disk, 4u);
  Taker take{*source};
  // After each keyframe the next two not held are read ahead, each once per round: after a the
  // watch thread reads c, after b d, after c e, after d f; after e and f nothing (a and b held).
  const std::uint64_t read_by[] = {1, 2, 3, 4, 4, 4, 5, 6, 7, 8, 8, 8};
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(take.next(), 10 * (i % 6 + 1)) << "keyframe " << i << " out of name order";
    ASSERT_TRUE(test::wait_until([&] { return source->read_ahead() >= read_by[i]; }))
        << "keyframe " << i << ": the next image is never read ahead";
  }
  EXPECT_EQ(source->read_ahead(), 8u) << "an image was read ahead twice in a round";
  EXPECT_EQ(source->read_on_the_spot(), 0u) << "the orchestrator waited on a decode";
}

TEST(FolderSource, AnImageNotReadAheadIsReadWhenItsTurnComes) {
  // Keyframes taken faster than the disk reads (here: nothing read ahead) still get their own
  // image, read when taken.
  test::ScratchDir dir;
  put_six(dir.path());
  auto source = watching_with_budget(dir.path(), 2 * kImageBytes, /*read_ahead=*/0);
  Taker take{*source};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(take.next(), 10 * (i + 1)) << "keyframe " << i;
    EXPECT_EQ(take.origin, fmt::format("folder {}.png", char('a' + i)));
  }
  EXPECT_EQ(source->read_on_the_spot(), 4u) << "c, d, e and f, each when taken";
  EXPECT_EQ(source->read_ahead(), 0u);
}

TEST(FolderSource, ImagesNotHeldWhoseDiskIsGoneGiveWayToThoseHeld) {
  CapturedLog log;
  {
    test::ScratchDir dir;
    const fs::path usb = dir / "usb";
    put_six(usb);
    auto source = watching_with_budget(usb, 2 * kImageBytes);
    Taker take{*source};
    EXPECT_EQ(take.next(), 10);
    fs::remove_all(usb);  // unplugged: the images not held can no longer be read
    ASSERT_TRUE(test::wait_until([&] {
      return source->folder_status().problem.find("no such folder") != std::string::npos;
    }));
    std::multiset<int> shown;
    for (int i = 0; i < 12; ++i) shown.insert(take.next());
    EXPECT_EQ(shown.count(-1), 0u) << "a keyframe request went unanswered";
    EXPECT_GE(shown.count(10), 3u) << "the images held are not shown on";
    EXPECT_GE(shown.count(20), 3u) << "the images held are not shown on";
    // c.png may have been read ahead before the disk went: kept while it is next but one.
    for (int red : shown) EXPECT_TRUE(red == 10 || red == 20 || red == 30) << red;
  }
  const std::string text = log.text();
  std::size_t warnings = 0;
  for (std::size_t at = 0; (at = text.find("showing the next image", at)) != std::string::npos;
       ++at)
    ++warnings;
  EXPECT_EQ(warnings, 1u) << "not said once, or said at every keyframe:\n" << text;
}

TEST(FolderSource, PicksUpImagesAddedRemovedAndReplaced) {
  test::ScratchDir dir;
  put(dir / "a.png", 10);
  put(dir / "b.png", 20);
  auto source = watching(dir.path());
  Taker take{*source};
  EXPECT_EQ(take.next(), 10);
  EXPECT_EQ(take.origin, "folder a.png");
  EXPECT_EQ(take.next(), 20);

  put(dir / "c.png", 30);  // added
  ASSERT_TRUE(take.reaches(30)) << "the added image is never shown";
  EXPECT_EQ(take.origin, "folder c.png");
  // Name order round and round: a, b, c.
  EXPECT_EQ(take.next(), 10);
  EXPECT_EQ(take.next(), 20);
  EXPECT_EQ(take.next(), 30);

  fs::remove(dir / "b.png");  // removed
  ASSERT_TRUE(test::wait_until([&] { return source->folder_status().images == 2; }));
  for (int i = 0; i < 4; ++i) EXPECT_NE(take.next(), 20) << "a removed image is still shown";

  put(dir / "a.png", 40);  // replaced
  ASSERT_TRUE(take.reaches(40)) << "the replaced image is never shown";
  for (int i = 0; i < 4; ++i) EXPECT_NE(take.next(), 10) << "the old version is still shown";
  EXPECT_EQ(source->folder_status().problem, "");
}

TEST(FolderSource, AFolderMissingAtStartIsUsedOnceItAppears) {
  test::ScratchDir dir;
  const fs::path usb = dir / "usb";
  auto source = watching(usb, 7);
  Taker take{*source};
  EXPECT_EQ(take.next(), 7) << "the stand-in shows while there is no folder";
  const FolderStatus missing = source->folder_status();
  EXPECT_EQ(missing.path, usb.string());
  EXPECT_TRUE(missing.watched);
  EXPECT_EQ(missing.images, 0u);
  EXPECT_NE(missing.problem.find("no such folder"), std::string::npos) << missing.problem;
  EXPECT_NE(missing.problem.find("the stand-in"), std::string::npos) << missing.problem;

  // The disk is mounted: written elsewhere, then moved in whole.
  const fs::path staging = dir / "staging";
  fs::create_directories(staging);
  put(staging / "a.png", 10);
  put(staging / "b.png", 20);
  fs::rename(staging, usb);
  ASSERT_TRUE(take.reaches(10)) << "the folder's images are never shown";
  EXPECT_EQ(take.next(), 20);
  EXPECT_EQ(take.next(), 10);
  ASSERT_TRUE(test::wait_until([&] { return source->folder_status().problem.empty(); }));
  EXPECT_EQ(source->folder_status().images, 2u);
}

TEST(FolderSource, AFolderRemovedOrEmptiedKeepsTheLastImages) {
  test::ScratchDir dir;
  const fs::path usb = dir / "usb";
  fs::create_directories(usb);
  put(usb / "a.png", 10);
  put(usb / "b.png", 20);
  auto source = watching(usb);
  Taker take{*source};

  fs::remove_all(usb);  // unplugged
  ASSERT_TRUE(test::wait_until(
      [&] { return source->folder_status().problem.find("no such folder") != std::string::npos; }));
  EXPECT_NE(source->folder_status().problem.find("showing the 2 images"), std::string::npos)
      << source->folder_status().problem;
  std::set<int> shown;
  for (int i = 0; i < 4; ++i) shown.insert(take.next());
  EXPECT_EQ(shown, (std::set<int>{10, 20}));

  fs::create_directories(usb);  // back, but empty
  ASSERT_TRUE(test::wait_until([&] {
    return source->folder_status().problem.find("no readable image") != std::string::npos;
  }));
  shown.clear();
  for (int i = 0; i < 4; ++i) shown.insert(take.next());
  EXPECT_EQ(shown, (std::set<int>{10, 20}));
}

TEST(FolderSource, AFileThatIsNoImageIsSkippedWithOneWarning) {
  CapturedLog log;
  {
    test::ScratchDir dir;
    put(dir / "a.png", 10);
    std::ofstream(dir / "broken.png") << "not a png";
    std::ofstream(dir / "notes.txt") << "not an image name: ignored";
    std::ofstream(dir / "._a.png") << "a hidden companion file: ignored";
    auto source = watching(dir.path());
    const std::uint64_t start = source->scans();
    ASSERT_TRUE(test::wait_until([&] { return source->scans() >= start + 5; }));
    Taker take{*source};
    EXPECT_EQ(take.next(), 10);
    EXPECT_EQ(take.next(), 10);
    EXPECT_EQ(source->folder_status().unreadable, 1u);
    EXPECT_EQ(source->folder_status().problem, "");
  }
  const std::string text = log.text();
  std::istringstream lines(text);
  std::size_t warnings = 0;
  for (std::string line; std::getline(lines, line);)
    warnings += line.find("broken.png") != std::string::npos;
  EXPECT_EQ(warnings, 1u) << text;
  EXPECT_EQ(text.find("._a.png"), std::string::npos) << text;
}

TEST(FolderSource, AFolderThatTakesLongToListIsListedLessOften) {
  // Every 2 s, every 500 ms while a large folder is read in turns; but a listing of 300 ms (a tree
  // of tens of thousands of files, a slow share) waits 20 times that: 5 % of a core at most.
  EXPECT_EQ(rescan_pause(2000ms, false, 3ms), 2000ms);
  EXPECT_EQ(rescan_pause(2000ms, true, 3ms), 500ms);
  EXPECT_EQ(rescan_pause(2000ms, false, 300ms), 6000ms);
  EXPECT_EQ(rescan_pause(2000ms, true, 300ms), 6000ms);
}

}  // namespace
}  // namespace dw::pipeline
