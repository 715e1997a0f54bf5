// ImageFolder: a folder's images read again and again, only what changed decoded, in name order;
// files being copied in, camera-sized pictures, a read budget, a memory budget and subfolders.
#include "pipeline/image_folder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/image.h"
#include "pipeline/folder_test_support.h"
#include "support/test_support.h"

namespace dw::pipeline {
namespace {

using namespace folder_test;  // NOLINT(google-build-using-namespace): the tests' own helpers

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

TEST(ImageFolder, ReadsSubfoldersByPathLeavingHiddenAndRecycledOnesOut) {
  // A camera's USB stick keeps its pictures in DCIM/100CANON; a stick a Mac or Windows has seen
  // carries .Trashes and $RECYCLE.BIN, whose deleted photos must not be shown.
  test::ScratchDir scratch;
  const fs::path dir = scratch.path();
  fs::create_directories(dir / "DCIM" / "100CANON");
  fs::create_directories(dir / "DCIM" / "101CANON");
  fs::create_directories(dir / ".Trashes");
  fs::create_directories(dir / "$RECYCLE.BIN");
  fs::create_directories(dir / "System Volume Information");
  put(dir / "DCIM" / "100CANON" / "IMG_0002.JPG", 20);
  put(dir / "DCIM" / "101CANON" / "IMG_0001.JPG", 30);
  put(dir / "a.png", 10);
  put(dir / ".Trashes" / "deleted.png", 66);
  put(dir / "$RECYCLE.BIN" / "$RABC123.png", 67);
  put(dir / "System Volume Information" / "x.png", 68);
  std::error_code ec;
  fs::create_directory_symlink(dir, dir / "DCIM" / "loop", ec);  // no endless walk
  ASSERT_FALSE(ec) << ec.message();

  ImageFolder folder(dir, kSize, kSize);
  folder.read_subfolders(true);
  ASSERT_TRUE(folder.scan());
  std::vector<std::string> names;
  for (const FolderImage& f : folder.images()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"DCIM/100CANON/IMG_0002.JPG",
                                             "DCIM/101CANON/IMG_0001.JPG", "a.png"}));
  EXPECT_EQ(folder.images()[1].image->pixel(0, 0)[0], 30);
  EXPECT_EQ(folder.load("DCIM/100CANON/IMG_0002.JPG")->pixel(0, 0)[0], 20);
  EXPECT_FALSE(folder.scan()) << "nothing changed";

  // A picture added to a subfolder is seen by the next scan; one removed goes.
  put(dir / "DCIM" / "101CANON" / "IMG_0003.JPG", 40);
  fs::remove(dir / "DCIM" / "100CANON" / "IMG_0002.JPG");
  ASSERT_TRUE(folder.scan());
  names.clear();
  for (const FolderImage& f : folder.images()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"DCIM/101CANON/IMG_0001.JPG",
                                             "DCIM/101CANON/IMG_0003.JPG", "a.png"}));

  // Off (the class's default): only the folder's own files.
  ImageFolder top(dir, kSize, kSize);
  top.scan();
  ASSERT_EQ(top.images().size(), 1u);
  EXPECT_EQ(top.images()[0].name, "a.png");
}

TEST(ImageFolder, ReadsSubfoldersDownToItsDepthLimit) {
  test::ScratchDir dir;
  fs::path deep = dir.path();
  for (int level = 1; level <= kMaxFolderDepth; ++level) {
    deep /= fmt::format("level{}", level);
    fs::create_directories(deep);
    put(deep / "p.png", static_cast<std::uint8_t>(level));
  }
  ImageFolder folder(dir.path(), kSize, kSize);
  folder.read_subfolders(true);
  folder.scan();
  // source.folder and kMaxFolderDepth - 1 levels below it: the pictures of levels 1 .. 7.
  std::set<int> levels;
  for (const FolderImage& f : folder.images()) levels.insert(f.image->pixel(0, 0)[0]);
  EXPECT_EQ(levels, (std::set<int>{1, 2, 3, 4, 5, 6, 7}));
  static_assert(kMaxFolderDepth == 8, "the levels above");
}

}  // namespace
}  // namespace dw::pipeline
