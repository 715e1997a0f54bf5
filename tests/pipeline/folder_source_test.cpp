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

#include "core/error.h"
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

// What is logged while it lives (the default logger's lines), for tests of what a user is told.
class CapturedLog {
 public:
  CapturedLog()
      : previous_(spdlog::default_logger()),
        sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink_));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::string text() const { return out_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

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

// Six images a.png .. f.png, red 10 .. 60.
void put_six(const fs::path& dir) {
  fs::create_directories(dir);
  for (int i = 0; i < 6; ++i)
    put(dir / fmt::format("{}.png", char('a' + i)), static_cast<std::uint8_t>(10 * (i + 1)));
}

constexpr std::uint64_t kImageBytes = kSize * kSize * 4;

TEST(ImageFolder, ImagesOverItsMemoryBudgetAreListedAndReadWhenShown) {
  // A folder of thousands held every picture decoded (4 MB each at 1024x1024: gigabytes): with a
  // memory budget the images beyond it are checked, listed without pixels and read when shown.
  test::ScratchDir dir;
  put_six(dir.path());
  std::ofstream(dir / "g.png") << "not a png";
  ImageFolder folder(dir.path(), kSize, kSize);
  folder.hold_up_to(2 * kImageBytes);
  ASSERT_TRUE(folder.scan());
  ASSERT_EQ(folder.images().size(), 6u) << "every readable image is listed";
  EXPECT_EQ(folder.on_disk(), 4u);
  EXPECT_EQ(folder.unreadable(), 1u) << "an image not held was still checked";
  for (std::size_t i = 0; i < 6; ++i) {
    const FolderImage& f = folder.images()[i];
    EXPECT_EQ(f.image != nullptr, i < 2) << f.name << ": the first two fit the budget";
    const auto pixels = f.image ? f.image : folder.load(f.name);
    EXPECT_EQ(pixels->width, kSize);
    EXPECT_EQ(pixels->pixel(kSize / 2, kSize / 2)[0], 10 * (i + 1)) << f.name;
  }
  EXPECT_THROW(folder.load("g.png"), dw::Error);

  // A held image removed makes room for the next new or changed one, not for those on disk.
  fs::remove(dir / "a.png");
  put(dir / "f.png", 70);
  ASSERT_TRUE(folder.scan());
  EXPECT_NE(folder.images().back().image, nullptr) << "the replaced f.png fits where a.png was";
  EXPECT_EQ(folder.images().back().image->pixel(0, 0)[0], 70);
  EXPECT_EQ(folder.on_disk(), 3u);

  // A budget smaller than one picture still holds one: the show has a picture in memory.
  ImageFolder tiny(dir.path(), kSize, kSize);
  tiny.hold_up_to(1);
  tiny.scan();
  EXPECT_NE(tiny.images().front().image, nullptr);
  EXPECT_EQ(tiny.on_disk(), tiny.images().size() - 1);
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

}  // namespace
}  // namespace dw::pipeline
