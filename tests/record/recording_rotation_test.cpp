// The recorder keeps its own files in check for weeks of recording: under record.max_total_mb,
// and the disk above record.min_free_mb by removing its oldest recordings rather than stopping.
// Only the files it names itself are ever removed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "record/recorder.h"
#include "record/recording_files.h"
#include "support/test_support.h"
#include "video_check.h"

namespace dw::record {
namespace {

namespace fs = std::filesystem;
constexpr auto kDeadline = std::chrono::milliseconds(120000);

// A file of `bytes`, last written `age` ago.
void make_file(const fs::path& path, std::size_t bytes, std::chrono::hours age) {
  std::ofstream(path, std::ios::binary) << std::string(bytes, 'x');
  fs::last_write_time(path, fs::file_time_type::clock::now() - age);
}

RecordSettings settings_in(const std::string& dir) {
  RecordSettings s;
  s.dir = dir;
  s.fps = 30;
  return s;
}

// Offers frames `first`.. as the recorder takes them, until `count` or until recording stops by
// itself.
void feed(Recorder& recorder, int count, int first = 0) {
  for (int n = first; n < first + count; ++n) {
    ASSERT_TRUE(
        test::wait_until([&] { return recorder.has_room() || !recorder.active(); }, kDeadline));
    if (!recorder.active()) return;
    Image frame = test::synthetic_frame(64, 48, n);
    ASSERT_TRUE(recorder.submit(std::move(frame.rgba), 64, 48, n / 30.0));
  }
}

struct Stops {
  std::mutex mutex;
  std::vector<std::string> warnings;
  std::vector<StopCause> causes;
  void on_stopped(const std::string& w, StopCause c) {
    std::lock_guard lock(mutex);
    warnings.push_back(w);
    causes.push_back(c);
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return warnings.size();
  }
};

TEST(RecordingFiles, OnlyTheRecordersOwnNamesAreOurs) {
  EXPECT_TRUE(is_own_recording("dreamwindow-20250101-120000-001.mp4"));
  EXPECT_TRUE(is_own_recording("dreamwindow-20250101-120000-1234.mp4"));
  EXPECT_TRUE(is_own_recording("dreamwindow-20250101-120000-001-2.mp4"));
  EXPECT_FALSE(is_own_recording("dreamwindow-20250101-120000-001.png"));  // a screenshot
  EXPECT_FALSE(is_own_recording("dreamwindow-20250101-120000-01.mp4"));
  EXPECT_FALSE(is_own_recording("dreamwindow-20250101-120000-001.mp4.bak"));
  EXPECT_FALSE(is_own_recording("dreamwindow-best-of-the-show.mp4"));
  EXPECT_FALSE(is_own_recording("dreamwindow-20250101-120000-001-.mp4"));
  EXPECT_FALSE(is_own_recording("holiday.mp4"));
  EXPECT_FALSE(is_own_recording("keyframe-20250101-120000-00000001.png"));
}

// Weeks of recording: each new file first removes the oldest of ours beyond the bound, and
// nothing else in the folder.
TEST(RecordingRotation, ANewFileRemovesTheOldestRecordingsBeyondTheBound) {
  test::ScratchDir dir;
  constexpr std::size_t kOld = 100 * 1024;
  const fs::path oldest = dir.path() / "dreamwindow-20250101-120000-001.mp4";
  const fs::path older = dir.path() / "dreamwindow-20250101-130000-002.mp4";
  const fs::path newest = dir.path() / "dreamwindow-20250101-140000-003.mp4";
  make_file(oldest, kOld, std::chrono::hours(72));
  make_file(older, kOld, std::chrono::hours(48));
  make_file(newest, kOld, std::chrono::hours(24));
  // Not ours, however old or large: a screenshot, a video someone kept, a note.
  const fs::path shot = dir.path() / "dreamwindow-20240101-120000-001.png";
  const fs::path kept = dir.path() / "best-of-the-show.mp4";
  const fs::path note = dir.path() / "dreamwindow-notes.mp4";
  for (const fs::path& p : {shot, kept, note}) make_file(p, 4 * kOld, std::chrono::hours(500));

  Recorder recorder(4);
  RecordSettings s = settings_in(dir.path().string());
  s.split_bytes = 64 * 1024;
  s.max_total_bytes = 250 * 1024;  // room for one old file and one new one of split_bytes
  recorder.start(s);
  feed(recorder, 10);
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));

  EXPECT_FALSE(fs::exists(oldest));
  EXPECT_FALSE(fs::exists(older));
  EXPECT_TRUE(fs::exists(newest));
  for (const fs::path& p : {shot, kept, note}) EXPECT_TRUE(fs::exists(p)) << p;
  const RecorderStats stats = recorder.stats();
  EXPECT_EQ(stats.files_removed, 2u);
  EXPECT_EQ(stats.frames_written, 10u);
  EXPECT_EQ(own_recordings(dir.path().string()).size(), 2u);  // the newest old one and ours
}

// A disk that fills: below the floor the oldest recordings go, never the file being written, and
// recording goes on instead of stopping.
TEST(RecordingRotation, TheFloorIsKeptByRemovingTheOldestRecordingsNotByStopping) {
  test::ScratchDir dir;
  constexpr std::uint64_t kMiB = 1 << 20;
  const fs::path first = dir.path() / "dreamwindow-20250101-120000-001.mp4";
  const fs::path second = dir.path() / "dreamwindow-20250101-130000-002.mp4";
  make_file(first, kMiB, std::chrono::hours(48));
  make_file(second, kMiB, std::chrono::hours(24));
  // A 12 MiB disk holding only this folder: 10 MiB free with the two old recordings.
  const std::string folder = dir.path().string();
  RecorderHooks hooks;
  hooks.free_space = [folder](const std::string&) -> std::optional<std::uint64_t> {
    std::uint64_t used = 0;
    for (const auto& e : fs::directory_iterator(folder)) {
      std::error_code ec;  // the folder check's probe comes and goes
      const auto size = e.file_size(ec);
      if (!ec) used += size;
    }
    return 12 * kMiB - used;
  };
  Stops stops;
  hooks.on_stopped = [&](const std::string& w, StopCause c) { stops.on_stopped(w, c); };
  Recorder recorder(4, hooks);
  RecordSettings s = settings_in(folder);
  s.min_free_bytes = 10 * kMiB + kMiB / 2;
  s.max_total_bytes = 1000 * kMiB;  // the bound itself removes nothing here
  recorder.start(s);
  feed(recorder, 60);  // two seconds: the floor is checked at the file and every second
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));

  EXPECT_EQ(stops.count(), 0u) << stops.warnings.front();
  EXPECT_FALSE(fs::exists(first));
  EXPECT_TRUE(fs::exists(second)) << "one removal was enough";
  const RecorderStats stats = recorder.stats();
  EXPECT_EQ(stats.files_removed, 1u);
  EXPECT_EQ(stats.frames_written, 60u);
  EXPECT_GE(stats.free_bytes, s.min_free_bytes);
  EXPECT_EQ(own_recordings(folder).size(), 2u);
}

// A disk that shows a removal late: btrfs and ZFS free a removed file's blocks at their next
// commit (seconds later), and a recording someone still has open (a player, a backup copying it)
// frees nothing until it is closed. Below the floor one removal is enough here; asking the disk
// again after it must not remove every recording in the folder (and then stop all the same).
void record_on_a_disk_that_shows_no_removal(std::chrono::milliseconds removal_shows_within,
                                            std::uint64_t expect_removed) {
  test::ScratchDir dir;
  constexpr std::uint64_t kMiB = 1 << 20;
  const std::vector<fs::path> old = {dir.path() / "dreamwindow-20250101-120000-001.mp4",
                                     dir.path() / "dreamwindow-20250101-130000-002.mp4",
                                     dir.path() / "dreamwindow-20250101-140000-003.mp4"};
  for (std::size_t i = 0; i < old.size(); ++i)
    make_file(old[i], kMiB, std::chrono::hours(72 - 24 * static_cast<int>(i)));
  RecorderHooks hooks;
  hooks.free_space = [](const std::string&) -> std::optional<std::uint64_t> {
    return 10 * kMiB + kMiB / 2;  // whatever is removed
  };
  hooks.removal_shows_within = removal_shows_within;
  Stops stops;
  hooks.on_stopped = [&](const std::string& w, StopCause c) { stops.on_stopped(w, c); };
  Recorder recorder(4, hooks);
  RecordSettings s = settings_in(dir.path().string());
  s.min_free_bytes = 11 * kMiB;
  s.max_total_bytes = 1000 * kMiB;  // the bound itself removes nothing here
  recorder.start(s);
  feed(recorder, 60);  // the floor is checked at the file and every second
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));

  EXPECT_EQ(stops.count(), 0u) << stops.warnings.front();
  const RecorderStats stats = recorder.stats();
  EXPECT_EQ(stats.frames_written, 60u);
  EXPECT_EQ(stats.files_removed, expect_removed);
  for (std::size_t i = 0; i < old.size(); ++i)
    EXPECT_EQ(fs::exists(old[i]), i >= expect_removed) << old[i];
}

TEST(RecordingRotation, ARemovalTheDiskShowsLateRemovesOneRecordingNotAll) {
  record_on_a_disk_that_shows_no_removal(std::chrono::milliseconds(60000), 1);
}

// A removal that never shows (the file is held open for good) is counted as free for a while
// only: then the floor removes the next oldest, one per check (the file, and each second).
TEST(RecordingRotation, ARemovalThatNeverShowsIsCountedForAWhileOnly) {
  record_on_a_disk_that_shows_no_removal(std::chrono::milliseconds(0), 3);
}

// With nothing of ours left to remove the floor still stops recording, as a stop of the disk
// (the app starts it again once there is room); a canvas no encoder takes is not one.
TEST(RecordingRotation, StopsSayWhetherTheDiskWasTheCause) {
  test::ScratchDir dir;
  Stops stops;
  RecorderHooks hooks;
  hooks.free_space = [](const std::string&) -> std::optional<std::uint64_t> { return 1 << 20; };
  hooks.on_stopped = [&](const std::string& w, StopCause c) { stops.on_stopped(w, c); };
  Recorder recorder(4, hooks);
  RecordSettings s = settings_in(dir.path().string());
  s.min_free_bytes = 2 << 20;
  s.max_total_bytes = 100 << 20;
  recorder.start(s);
  Image f = test::synthetic_frame(64, 48, 0);
  ASSERT_TRUE(recorder.submit(std::move(f.rgba), 64, 48, 0));
  ASSERT_TRUE(test::wait_until([&] { return stops.count() == 1; }, kDeadline));
  s.min_free_bytes = 0;
  recorder.start(s);
  Image tiny = test::synthetic_frame(1, 1, 0);
  ASSERT_TRUE(recorder.submit(std::move(tiny.rgba), 1, 1, 0));
  ASSERT_TRUE(test::wait_until([&] { return stops.count() == 2; }, kDeadline));
  std::lock_guard lock(stops.mutex);
  EXPECT_EQ(stops.causes[0], StopCause::Disk) << stops.warnings[0];
  EXPECT_EQ(stops.causes[1], StopCause::Other) << stops.warnings[1];
}

// The recording folder removed while a file is being written (an operator tidying up, a clean-up
// script): the open file has no name any more, and all that is written after goes where nobody
// can ever play it (and, the folder gone, its disk is not even asked for free space). Within a
// second the recorder notices and goes on in a new file, in the folder made again.
TEST(RecordingRotation, AFolderRemovedWhileRecordingGoesOnInANewFile) {
  test::ScratchDir scratch;
  const fs::path folder = scratch.path() / "videos";
  Stops stops;
  RecorderHooks hooks;
  hooks.on_stopped = [&](const std::string& w, StopCause c) { stops.on_stopped(w, c); };
  Recorder recorder(4, hooks);
  recorder.start(settings_in(folder.string()));  // split neither by size nor by time
  feed(recorder, 30);
  ASSERT_TRUE(test::wait_until([&] { return recorder.stats().frames_written == 30; }, kDeadline));
  fs::remove_all(folder);
  feed(recorder, 60, 30);  // two more seconds: the file is checked every second
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));

  EXPECT_EQ(stops.count(), 0u);
  const RecorderStats stats = recorder.stats();
  EXPECT_EQ(stats.frames_written, 90u);
  EXPECT_EQ(stats.files, 2u);
  ASSERT_TRUE(fs::is_directory(folder)) << "nothing of the last two seconds was kept";
  const std::vector<RecordingFile> files = own_recordings(folder.string());
  ASSERT_EQ(files.size(), 1u);
  // At most a second of video went with the removed file.
  EXPECT_GE(test::decode_video(files[0].path).frames.size(), 29u);
}

}  // namespace
}  // namespace dw::record
