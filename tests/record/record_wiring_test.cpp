// The app's recording actions (src/app/record_wiring): what the keys, the remote and OSC run.
#include "app/record_wiring.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "core/image.h"
#include "support/test_support.h"

namespace dw {
namespace {

struct Rig {
  explicit Rig(Config c) : initial(std::move(c)), store(initial) {}
  Config initial;
  ConfigStore store;
  Commands commands;
  ActionTable actions;
};

TEST(RecordWiring, ActionsStartStopToggleAndScreenshot) {
  test::ScratchDir dir;
  Config c;
  c.record.dir = dir.path().string();
  c.record.min_free_mb = 0;
  Rig rig(c);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions);
  for (const char* name : {"start_recording", "stop_recording", "toggle_recording", "screenshot"})
    EXPECT_TRUE(rig.actions.contains(name)) << name;
  EXPECT_FALSE(rig.commands.recording.load());
  ActionResult r = rig.actions.run("start_recording");
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(rig.commands.recording.load());
  r = rig.actions.run("toggle_recording");
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_FALSE(rig.commands.recording.load());
  r = rig.actions.run("toggle_recording");
  EXPECT_TRUE(rig.commands.recording.load());
  r = rig.actions.run("stop_recording");
  EXPECT_FALSE(rig.commands.recording.load());
  const auto shots = rig.commands.screenshot.load();
  r = rig.actions.run("screenshot");
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(rig.commands.screenshot.load(), shots + 1);
  EXPECT_NE(wiring.sink(), nullptr);
  EXPECT_FALSE(wiring.status().on);
}

TEST(RecordWiring, UnwritableFolderIsRefusedWithItsName) {
  test::ScratchDir scratch;
  const std::string blocker = scratch / "a-file";
  std::ofstream(blocker) << "x";
  Config c;
  c.record.dir = blocker + "/videos";
  Rig rig(c);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions);
  const ActionResult r = rig.actions.run("start_recording");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find(blocker), std::string::npos) << r.message;
  EXPECT_FALSE(rig.commands.recording.load());
  EXPECT_FALSE(rig.actions.run("screenshot").ok);

  // With record.enabled the show still starts (a USB disk not mounted yet); status says why
  // nothing records.
  Config enabled = c;
  enabled.record.enabled = true;
  Rig at_start(enabled);
  RecordWiring waiting(at_start.initial, at_start.store, at_start.commands, at_start.actions);
  ASSERT_TRUE(test::wait_until([&] { return !waiting.status().last_error.empty(); }));
  EXPECT_FALSE(at_start.commands.recording.load());
  EXPECT_NE(waiting.status().last_error.find(blocker), std::string::npos)
      << waiting.status().last_error;
}

// record.enabled with record.dir on a disk not mounted yet (record.mount names its mount point,
// an empty folder): the show starts without recording and nothing is made under the mount point
// (it would fill the system disk, hidden once the disk is mounted); status says what it waits
// for, the free space is not the system disk's, and a screenshot there is refused the same way.
TEST(RecordWiring, FolderOnADiskNotMountedWaitsAndMakesNothing) {
  test::ScratchDir scratch;
  const std::filesystem::path mount_point = scratch / "usb";
  std::filesystem::create_directories(mount_point);
  Config c;
  c.record.dir = (mount_point / "videos").string();
  c.record.mount = mount_point.string();
  c.record.enabled = true;
  c.record.min_free_mb = 0;
  Rig rig(c);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions,
                      std::chrono::milliseconds(20));
  ASSERT_TRUE(test::wait_until([&] { return !wiring.status().last_error.empty(); }));
  const std::string why = wiring.status().last_error;
  EXPECT_NE(
      why.find("record.dir " + c.record.dir + ": nothing is mounted at " + mount_point.string() +
               " (record.mount = " + mount_point.string() + "); waiting for the disk"),
      std::string::npos)
      << why;
  EXPECT_FALSE(rig.commands.recording.load());
  EXPECT_EQ(wiring.status().free_disk_bytes, 0u);
  const ActionResult shot = rig.actions.run("screenshot");
  EXPECT_FALSE(shot.ok);
  EXPECT_NE(shot.message.find("nothing is mounted"), std::string::npos) << shot.message;
  EXPECT_TRUE(std::filesystem::is_empty(mount_point));
  // record.mount is live: turned off, the same folder takes recording (today's behaviour).
  Config off = c;
  off.record.mount = "";
  rig.store.publish(off);
  ASSERT_TRUE(
      test::wait_until([&] { return rig.commands.recording.load(); }, std::chrono::seconds(30)));
  EXPECT_EQ(wiring.status().last_error, "");
}

// record.enabled with a disk below the floor at the start (one the recordings filled, before a
// restart by the watchdog or a nightly reboot): the show starts without recording (it exited 2,
// and systemd restarted it into the same refusal for ever), status names the floor, and
// recording starts by itself once the disk can take it.
TEST(RecordWiring, DiskBelowTheFloorAtStartWaitsAndStartsWhenMended) {
  test::ScratchDir dir;
  Config c;
  c.record.dir = dir.path().string();
  c.record.enabled = true;
  c.record.min_free_mb = 10000000;  // 10 TB: no test machine has that free
  Rig rig(c);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions,
                      std::chrono::milliseconds(20));
  ASSERT_TRUE(test::wait_until([&] { return !wiring.status().last_error.empty(); }));
  EXPECT_FALSE(rig.commands.recording.load());
  EXPECT_NE(wiring.status().last_error.find("record.min_free_mb"), std::string::npos)
      << wiring.status().last_error;
  EXPECT_GT(wiring.status().free_disk_bytes, 0u);
  Config mended = c;
  mended.record.min_free_mb = 0;  // space freed (here: the floor lowered)
  rig.store.publish(mended);
  ASSERT_TRUE(
      test::wait_until([&] { return rig.commands.recording.load(); }, std::chrono::seconds(30)));
  EXPECT_EQ(wiring.status().last_error, "");
}

// A status read never touches the disk itself: the free space is the disk watch's last measure.
// Turning record.enabled off ends the wait for a start.
TEST(RecordWiring, TurningRecordingOffEndsTheWaitForAStart) {
  test::ScratchDir dir;
  Config c;
  c.record.dir = dir.path().string();
  c.record.enabled = true;
  c.record.min_free_mb = 10000000;
  Rig rig(c);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions,
                      std::chrono::milliseconds(20));
  ASSERT_TRUE(test::wait_until([&] { return !wiring.status().last_error.empty(); }));
  Config off = c;
  off.record.enabled = false;
  off.record.min_free_mb = 0;
  rig.store.publish(off);
  ASSERT_TRUE(test::wait_until([&] { return wiring.status().last_error.empty(); },
                               std::chrono::seconds(30)));
  EXPECT_FALSE(rig.commands.recording.load()) << "record.enabled was turned off";
}

// The render loop's side of recording, one frame per call: what it asks the sink for and hands it.
struct FakeDisplay {
  explicit FakeDisplay(CanvasSink& s) : sink(s) {}
  void frame() {
    const CanvasWants wants = sink.wants(t);
    if (wants.video) sink.take(CanvasFrame{64, 48, t, sink.buffer(64 * 48 * 4), wants});
    t += 1.0 / 30;
  }
  CanvasSink& sink;
  double t = 0;
};

// Recording on from the start into `folder`, no free-space floor, a new file every `split_minutes`.
Config recording_to(const std::string& folder, double split_minutes) {
  Config c;
  c.record.dir = folder;
  c.record.enabled = true;
  c.record.min_free_mb = 0;
  c.record.split_minutes = split_minutes;
  return c;
}

// The recording folder gone and a file in its place; false when the recorder made the folder again
// in between (it does at each new file).
bool replace_with_a_file(const std::string& folder) {
  std::error_code ec;
  std::filesystem::remove_all(folder, ec);
  std::ofstream(folder) << "not a folder";
  return std::filesystem::is_regular_file(folder, ec);
}

// Weeks of recording on a USB disk that is pulled and put back (here: the folder vanishes and a
// file takes its name, so the next split fails): recording stopped for good. Now the disk watch
// starts it again once the folder takes it, logged and counted.
TEST(RecordWiring, ARecordingStoppedForTheFolderStartsAgainOnceItIsBack) {
  test::ScratchDir scratch;
  const std::string videos = scratch / "videos";
  Rig rig(recording_to(videos, 0.01));  // a new file every 0.6 s of canvas time
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions,
                      std::chrono::milliseconds(20));
  FakeDisplay display(*wiring.sink());
  ASSERT_TRUE(test::wait_until([&] {
    display.frame();
    return wiring.status().frames_written > 0;
  }));
  ASSERT_TRUE(test::wait_until([&] { return replace_with_a_file(videos); }));
  ASSERT_TRUE(test::wait_until([&] {
    display.frame();
    return !wiring.status().on && !rig.commands.recording.load();
  }));
  EXPECT_NE(wiring.status().last_error.find(videos), std::string::npos)
      << wiring.status().last_error;
  const std::uint64_t files_before = wiring.status().files;

  std::filesystem::remove(videos);  // back: the recorder makes the folder again
  ASSERT_TRUE(test::wait_until([&] {
    display.frame();
    const pipeline::RecordingStatus st = wiring.status();
    return st.on && st.files > files_before && std::filesystem::is_directory(videos) &&
           !std::filesystem::is_empty(videos);
  })) << wiring.status().last_error;
  EXPECT_TRUE(rig.commands.recording.load());
  EXPECT_EQ(wiring.status().restarts, 1u);
}

// A disk that takes the checks but not the writes (here: the folder replaced by a file each time
// recording has started again): each stop soon after a start waits longer before the next start
// (3 watch periods, doubling), instead of a stop, a start and a warning every watch period.
TEST(RecordWiring, ARecordingThatStopsSoonAfterEachStartWaitsLongerEachTime) {
  test::ScratchDir scratch;
  const std::string videos = scratch / "videos";
  Rig rig(recording_to(videos, 0.002));  // a new file every 0.12 s of canvas time
  constexpr auto kWatch = std::chrono::milliseconds(20);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions, kWatch);
  FakeDisplay display(*wiring.sink());
  std::vector<double> waits_ms;  // from each stop to the start after it
  for (std::uint64_t round = 0; round < 4; ++round) {
    ASSERT_TRUE(test::wait_until([&] {
      display.frame();
      return wiring.status().on && wiring.status().restarts == round;
    })) << "round "
        << round << ": " << wiring.status().last_error;
    ASSERT_TRUE(test::wait_until([&] { return replace_with_a_file(videos); }));
    ASSERT_TRUE(test::wait_until([&] {
      display.frame();
      return !rig.commands.recording.load();
    })) << "round "
        << round;
    const auto stopped = std::chrono::steady_clock::now();
    std::filesystem::remove(videos);  // back at once
    ASSERT_TRUE(test::wait_until(
        [&] {
          display.frame();
          return wiring.status().restarts == round + 1;
        },
        std::chrono::seconds(30)))
        << "round " << round << ": " << wiring.status().last_error;
    waits_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - stopped)
            .count());
  }
  // The first stop came after a long recording: it starts again at the next watch round. The
  // fourth waits 3 x 2 x 2 = 12 watch periods (measured from when the test saw the stop: 10 at
  // least); without the wait it was one. A slow machine only makes it longer.
  EXPECT_GE(waits_ms[3], 10 * kWatch.count()) << "waits " << ::testing::PrintToString(waits_ms);
}

TEST(RecordWiring, KeyframeObserverArchivesPngAndJsonWithPromptAndSeed) {
  test::ScratchDir dir;
  Config c;
  c.record.archive_dir = dir.path().string();
  c.comfy.sampler = "euler";
  Rig rig(c);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions);
  const pipeline::KeyframeObserver observe = wiring.keyframe_observer();
  ASSERT_TRUE(observe);
  Image image(16, 8);
  for (std::size_t i = 0; i < image.rgba.size(); ++i) image.rgba[i] = (i % 4 == 3) ? 255 : 77;
  observe(pipeline::KeyframeNote{
      7, &image, {"a \"quoted\" tide pool", "blur"}, 1234, "offline", false});
  std::filesystem::path png, json;
  ASSERT_TRUE(test::wait_until([&] {
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      if (e.path().extension() == ".png") png = e.path();
      if (e.path().extension() == ".json") json = e.path();
    }
    return !png.empty() && !json.empty();
  }));
  const Image back = load_image(png.string());
  EXPECT_EQ(back.width, 16);
  EXPECT_EQ(back.rgba[0], 77);
  std::vector<std::uint8_t> bytes;
  ASSERT_TRUE(test::wait_until([&] {
    bytes = read_file(json.string(), 1 << 20);
    return !bytes.empty();
  }));
  const std::string text(bytes.begin(), bytes.end());
  EXPECT_NE(text.find("\"seed\": 1234"), std::string::npos) << text;
  EXPECT_NE(text.find("a \\\"quoted\\\" tide pool"), std::string::npos) << text;
  EXPECT_NE(text.find("\"sampler\": \"euler\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"index\": 7"), std::string::npos) << text;
  ASSERT_TRUE(test::wait_until([&] { return wiring.status().archive_written == 1; }));
  EXPECT_GT(wiring.status().archive_bytes, 0u);

  Config off;
  Rig none(off);
  RecordWiring without(none.initial, none.store, none.commands, none.actions);
  EXPECT_FALSE(without.keyframe_observer()) << "no archive_dir: no observer";
}

// An archive folder on a USB stick that was pulled: status says the archive fails, and why (it
// was only in the log, once per 100 keyframes).
TEST(RecordWiring, AnArchiveThatCannotWriteShowsInStatus) {
  test::ScratchDir scratch;
  const std::string blocker = scratch / "a-file";
  std::ofstream(blocker) << "x";
  Config c;
  c.record.archive_dir = blocker + "/archive";
  Rig rig(c);
  RecordWiring wiring(rig.initial, rig.store, rig.commands, rig.actions);
  Image image(16, 8);
  wiring.keyframe_observer()(pipeline::KeyframeNote{1, &image, {"p", ""}, 1, "offline", false});
  ASSERT_TRUE(test::wait_until([&] { return wiring.status().archive_failed == 1; }));
  EXPECT_NE(wiring.status().archive_last_error.find(blocker), std::string::npos)
      << wiring.status().archive_last_error;
  EXPECT_EQ(wiring.status().archive_written, 0u);
}

// A record folder on a share that stops answering: the folder check hangs. Here the write probe
// is a FIFO with no reader, so opening it blocks as a hung mount would. Neither the start (it ran
// the check on the main thread, before the window existed) nor a status read (the watch held
// status's lock across the check, and status feeds the watchdog's ping) may wait for it.
TEST(RecordWiring, AFolderThatHangsHoldsNeitherTheStartNorStatus) {
  test::ScratchDir dir;
  const std::string probe = dir / ".dreamwindow-write-test";
  ASSERT_EQ(::mkfifo(probe.c_str(), 0644), 0);
  Config c;
  c.record.dir = dir.path().string();
  c.record.enabled = true;
  c.record.min_free_mb = 0;
  Rig rig(c);
  std::unique_ptr<RecordWiring> wiring;
  std::atomic<bool> built{false}, status_read{false};
  std::jthread start([&] {
    wiring = std::make_unique<RecordWiring>(rig.initial, rig.store, rig.commands, rig.actions,
                                            std::chrono::milliseconds(20));
    built = true;
    (void)wiring->status();
    status_read = true;
  });
  const bool started = test::wait_until([&] { return built.load(); }, std::chrono::seconds(5));
  const bool answered =
      started && test::wait_until([&] { return status_read.load(); }, std::chrono::seconds(5));
  // The share answers again (a reader opens the FIFO): the start record.enabled waited for goes on.
  const int reader = ::open(probe.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  start.join();
  EXPECT_TRUE(started) << "the start waited for the record folder";
  EXPECT_TRUE(answered) << "status waited for the record folder";
  EXPECT_TRUE(test::wait_until([&] { return rig.commands.recording.load(); }));
  ::close(reader);
  wiring.reset();
}

}  // namespace
}  // namespace dw
