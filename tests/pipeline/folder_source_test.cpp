// The folder source reading its folder again while it runs: images added, removed or replaced are
// shown without a restart, a folder missing at start is used once it appears, and a folder that
// goes away or empties never empties the show. Every wait is for the event, with a deadline.
#include "pipeline/folder_source.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>

#include "core/image.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kSize = 16;

// A flat image whose red channel names it.
Image flat(std::uint8_t red) {
  Image img(kSize, kSize);
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      std::uint8_t* p = img.pixel(x, y);
      p[0] = red;
      p[1] = 40;
      p[2] = 90;
      p[3] = 255;
    }
  return img;
}

// Writes an image and moves its time on, so a replacement is seen even within one clock tick.
void put(const fs::path& file, std::uint8_t red) {
  const bool existed = fs::exists(file);
  const auto before = existed ? fs::last_write_time(file) : fs::file_time_type{};
  save_png(flat(red), file.string());
  if (existed) fs::last_write_time(file, before + 10s);
}

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

TEST(ImageFolder, DecodesOnlyWhatChangedAndKeepsNameOrder) {
  test::ScratchDir dir;
  put(dir / "b.png", 20);
  put(dir / "a.png", 10);
  ImageFolder folder(dir.path(), kSize, kSize);
  EXPECT_TRUE(folder.scan());
  ASSERT_EQ(folder.images().size(), 2u);
  EXPECT_EQ(folder.images()[0].name, "a.png");
  EXPECT_EQ(folder.images()[1].name, "b.png");
  EXPECT_FALSE(folder.scan()) << "nothing changed";

  // Other content under the same name, time and size is not read again: unchanged files are
  // never decoded twice.
  const auto time = fs::last_write_time(dir / "a.png");
  const auto size = fs::file_size(dir / "a.png");
  save_png(flat(11), dir / "a.png");
  fs::last_write_time(dir / "a.png", time);
  ASSERT_EQ(fs::file_size(dir / "a.png"), size);
  EXPECT_FALSE(folder.scan());
  EXPECT_EQ(folder.images()[0].image->pixel(0, 0)[0], 10);

  // A new time is a replacement: read again.
  put(dir / "a.png", 30);
  EXPECT_TRUE(folder.scan());
  EXPECT_EQ(folder.images()[0].image->pixel(0, 0)[0], 30);
}

TEST(ImageFolder, SaysWhyItHasNoImagesAndKeepsWhatItHad) {
  test::ScratchDir dir;
  ImageFolder folder(dir / "usb", kSize, kSize);
  EXPECT_FALSE(folder.scan());
  EXPECT_EQ(folder.problem(), "no such folder");
  fs::create_directories(dir / "usb");
  put(dir / "usb/a.png", 10);
  EXPECT_TRUE(folder.scan());
  EXPECT_EQ(folder.problem(), "");
  fs::remove_all(dir / "usb");
  EXPECT_FALSE(folder.scan());
  EXPECT_EQ(folder.problem(), "no such folder");
  EXPECT_EQ(folder.images().size(), 1u) << "a folder gone keeps what it had";
  std::ofstream(dir / "usb") << "a file";
  folder.scan();
  EXPECT_EQ(folder.problem(), "not a folder");
}

// Makes a file look as if it was last written `ago` before now.
void written_ago(const fs::path& file, std::chrono::seconds ago) {
  fs::last_write_time(file, fs::file_time_type::clock::now() - ago);
}

TEST(ImageFolder, AFileStillBeingCopiedInWaitsUntilItIsWhole) {
  test::ScratchDir dir;
  put(dir / "a.png", 10);
  written_ago(dir / "a.png", 60s);
  ImageFolder folder(dir.path(), kSize, kSize);
  folder.settle_for(2s);
  ASSERT_TRUE(folder.scan());

  // The first half of a picture being copied in: neither shown nor counted unreadable.
  save_png(flat(20), dir / "whole.png");
  std::string bytes;
  {
    std::ifstream in(dir / "whole.png", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(dir / "b.png", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  fs::remove(dir / "whole.png");
  EXPECT_FALSE(folder.scan());
  EXPECT_EQ(folder.images().size(), 1u);
  EXPECT_EQ(folder.unreadable(), 0u);
  EXPECT_EQ(folder.settling(), 1u);

  // A replacement being written keeps the old picture meanwhile.
  put(dir / "a.png", 30);
  written_ago(dir / "a.png", 0s);
  EXPECT_FALSE(folder.scan());
  EXPECT_EQ(folder.images()[0].image->pixel(0, 0)[0], 10);
  EXPECT_EQ(folder.settling(), 2u);

  // Both whole and left alone past the settle time: read, once each.
  std::ofstream(dir / "b.png", std::ios::binary) << bytes;
  written_ago(dir / "a.png", 3s);
  written_ago(dir / "b.png", 3s);
  EXPECT_TRUE(folder.scan());
  ASSERT_EQ(folder.images().size(), 2u);
  EXPECT_EQ(folder.images()[0].image->pixel(0, 0)[0], 30);
  EXPECT_EQ(folder.images()[1].image->pixel(0, 0)[0], 20);
  EXPECT_EQ(folder.settling(), 0u);
  EXPECT_EQ(folder.unreadable(), 0u);

  // A time in the future (a share whose clock runs ahead) holds nothing back.
  put(dir / "c.png", 40);
  written_ago(dir / "c.png", -3600s);
  EXPECT_TRUE(folder.scan());
  EXPECT_EQ(folder.images().size(), 3u);
}

TEST(ImageFolder, AFolderWhoseOnlyImagesAreBeingWrittenSaysSo) {
  test::ScratchDir dir;
  put(dir / "a.png", 10);
  ImageFolder folder(dir.path(), kSize, kSize);
  folder.settle_for(2s);
  folder.scan();
  EXPECT_TRUE(folder.images().empty());
  EXPECT_EQ(folder.problem(), "its images are still being written");
}

// A slideshow of a camera's pictures: wider than the 8192 pixels a server's keyframe may be, and
// still read; a picture over the folder's limits is skipped with a warning that says why.
TEST(ImageFolder, ReadsPicturesAsLargeAsACamerasAndSkipsLarger) {
  test::ScratchDir dir;
  Image wide(9504, 8);
  for (int x = 0; x < wide.width; ++x)
    for (int y = 0; y < wide.height; ++y) wide.pixel(x, y)[0] = 90;
  save_png(wide, dir / "a_camera.png");
  Image too_wide(kFolderImageLimits.max_width + 1, 2);
  save_png(too_wide, dir / "b_panorama.png");
  ImageFolder folder(dir.path(), kSize, kSize);
  folder.scan();
  ASSERT_EQ(folder.images().size(), 1u);
  EXPECT_EQ(folder.images()[0].name, "a_camera.png");
  EXPECT_EQ(folder.images()[0].image->pixel(kSize / 2, kSize / 2)[0], 90);
  EXPECT_EQ(folder.unreadable(), 1u);
}

// Camera-sized pictures (2400 x 1600, several milliseconds each to read), the red channel naming
// each: 10, 20, 30, 40 in name order.
void put_large_pictures(const fs::path& dir) {
  for (int i = 0; i < 4; ++i) {
    Image big(2400, 1600);
    for (std::size_t p = 0; p < big.rgba.size(); p += 4) {
      big.rgba[p] = static_cast<std::uint8_t>(10 * (i + 1));
      big.rgba[p + 3] = 255;
    }
    save_png(big, (dir / fmt::format("photo_{}.png", i)).string());
  }
}

TEST(ImageFolder, ALargeFolderIsReadInTurnsWithinItsReadBudget) {
  // A folder of thousands of camera pictures took minutes to read before anything was shown
  // (and systemd's start timeout could end the program first): with a read budget a scan reads
  // what it can in that time, one picture at least, and leaves the rest to the next scans.
  test::ScratchDir dir;
  put_large_pictures(dir.path());
  ImageFolder folder(dir.path(), kSize, kSize);
  folder.read_for(1ms);  // less than one picture takes: one a scan
  for (std::size_t read = 1; read <= 4; ++read) {
    ASSERT_TRUE(folder.scan()) << "scan " << read;
    ASSERT_EQ(folder.images().size(), read);
    EXPECT_EQ(folder.unread(), 4 - read);
    EXPECT_EQ(folder.problem(), "") << "a folder being read is no problem once it shows a picture";
  }
  EXPECT_FALSE(folder.scan()) << "all read: nothing new";
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(folder.images()[i].name, fmt::format("photo_{}.png", i));
    EXPECT_EQ(folder.images()[i].image->pixel(kSize / 2, kSize / 2)[0], 10 * (i + 1));
  }
  // Without a budget (the default) one scan reads everything.
  ImageFolder whole(dir.path(), kSize, kSize);
  whole.scan();
  EXPECT_EQ(whole.images().size(), 4u);
  EXPECT_EQ(whole.unread(), 0u);
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
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
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
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  std::istringstream lines(text);
  std::size_t warnings = 0;
  for (std::string line; std::getline(lines, line);)
    warnings += line.find("broken.png") != std::string::npos;
  EXPECT_EQ(warnings, 1u) << text;
  EXPECT_EQ(text.find("._a.png"), std::string::npos) << text;
}

}  // namespace
}  // namespace dw::pipeline
