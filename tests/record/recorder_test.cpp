// The recorder on its own (no GL): files that decode back to what was given, splitting, dropped
// frames behind a slow encoder, and the ways recording has to stop (unwritable folder, disk floor,
// a real write failure) without taking anything else down.
#include "record/recorder.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

extern "C" {
#include <libavutil/log.h>
}

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/log_board.h"
#include "record/still_writer.h"
#include "record/video_encoder.h"
#include "support/test_support.h"
#include "video_check.h"

namespace dw::record {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kDeadline = std::chrono::milliseconds(120000);

std::vector<std::string> videos_in(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".mp4") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

RecordSettings settings_in(const std::string& dir) {
  RecordSettings s;
  s.dir = dir;
  s.fps = 30;
  s.quality = 20;
  return s;
}

// Offers frames as fast as the recorder takes them (waits for room, so none is dropped).
void feed(Recorder& recorder, int count, int w, int h, Image (*make)(int, int, int)) {
  for (int n = 0; n < count; ++n) {
    ASSERT_TRUE(test::wait_until([&] { return recorder.has_room(); }, kDeadline));
    Image frame = make(w, h, n);
    ASSERT_TRUE(recorder.submit(std::move(frame.rgba), w, h, n / 30.0));
  }
}

TEST(Recorder, RecordedFileDecodesToTheSameFrames) {
  test::ScratchDir dir;
  Recorder recorder(4);
  recorder.start(settings_in(dir.path().string()));
  constexpr int kFrames = 45, kW = 192, kH = 108;
  feed(recorder, kFrames, kW, kH, test::synthetic_frame);
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));

  const RecorderStats stats = recorder.stats();
  EXPECT_EQ(stats.frames_written, static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(stats.frames_dropped, 0u);
  EXPECT_FALSE(stats.recording);
  EXPECT_TRUE(stats.file.empty());
  EXPECT_FALSE(stats.encoder.empty());
  const auto files = videos_in(dir.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(stats.bytes, fs::file_size(files[0]));
  const test::DecodedVideo video = test::decode_video(files[0]);
  ASSERT_EQ(video.frames.size(), static_cast<std::size_t>(kFrames));
  double worst = 1e9;
  for (int n = 0; n < kFrames; ++n)
    worst = std::min(worst, test::psnr_rgb(video.frames[n], test::synthetic_frame(kW, kH, n)));
  EXPECT_GE(worst, 35.0) << "encoder " << stats.encoder;
}

TEST(Recorder, OddCanvasSizeLosesOnlyTheLastColumnAndRow) {
  test::ScratchDir dir;
  Recorder recorder(4);
  recorder.start(settings_in(dir.path().string()));
  feed(recorder, 5, 101, 61, test::synthetic_frame);
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  const auto files = videos_in(dir.path());
  ASSERT_EQ(files.size(), 1u);
  const test::DecodedVideo video = test::decode_video(files[0]);
  ASSERT_EQ(video.frames.size(), 5u);
  EXPECT_EQ(video.frames[0].width, 100);
  EXPECT_EQ(video.frames[0].height, 60);
}

TEST(Recorder, SplitBySizeGivesSeveralPlayableFiles) {
  test::ScratchDir dir;
  Recorder recorder(4);
  RecordSettings s = settings_in(dir.path().string());
  s.split_bytes = 64 * 1024;  // noise at 160x120 is about 10 KB per frame
  recorder.start(s);
  constexpr int kFrames = 60;
  feed(recorder, kFrames, 160, 120, test::noisy_frame);
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  const auto files = videos_in(dir.path());
  ASSERT_GE(files.size(), 3u);
  std::size_t frames = 0;
  for (const auto& f : files) {
    const std::size_t n = test::decode_video(f).frames.size();
    EXPECT_GT(n, 0u) << f;
    frames += n;
  }
  EXPECT_EQ(frames, static_cast<std::size_t>(kFrames));
  EXPECT_EQ(recorder.stats().files, files.size());
}

TEST(Recorder, SplitByTimeCutsAtTheGivenCanvasTime) {
  test::ScratchDir dir;
  Recorder recorder(4);
  RecordSettings s = settings_in(dir.path().string());
  s.split_seconds = 1.0;
  recorder.start(s);
  feed(recorder, 75, 64, 48, test::synthetic_frame);  // 2.5 s at 30 fps
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  const auto files = videos_in(dir.path());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(test::decode_video(files[0]).frames.size(), 30u);
  EXPECT_EQ(test::decode_video(files[1]).frames.size(), 30u);
  EXPECT_EQ(test::decode_video(files[2]).frames.size(), 15u);
}

TEST(Recorder, FullQueueDropsAndCountsInsteadOfWaiting) {
  test::ScratchDir dir;
  std::mutex gate;
  std::unique_lock hold(gate);  // the encoder waits here: an artificially slow encoder
  std::atomic<int> entered{0};
  RecorderHooks hooks;
  hooks.before_encode = [&] {
    ++entered;
    std::lock_guard wait_for_release(gate);
  };
  Recorder recorder(2, hooks);
  recorder.start(settings_in(dir.path().string()));
  constexpr int kOffered = 12;
  int accepted = 0;
  for (int n = 0; n < kOffered; ++n) {
    Image f = test::synthetic_frame(64, 48, n);
    if (recorder.submit(std::move(f.rgba), 64, 48, n / 30.0)) ++accepted;
  }
  // At most the queue plus the one frame the encoder holds got in; every other one was dropped
  // at once (this loop never waited for the blocked encoder).
  EXPECT_LE(accepted, 3);
  EXPECT_EQ(recorder.stats().frames_dropped, static_cast<std::uint64_t>(kOffered - accepted));
  hold.unlock();
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  EXPECT_EQ(recorder.stats().frames_written, static_cast<std::uint64_t>(accepted));
  const auto files = videos_in(dir.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(test::decode_video(files[0]).frames.size(), static_cast<std::size_t>(accepted));
}

// Quitting with a long queue behind a slow encoder (a software encoder on a busy machine): the
// file is finished within the budget with the frames written so far, and it plays.
TEST(Recorder, FinishingWithinABudgetDropsTheRestAndLeavesAPlayableFile) {
  test::ScratchDir dir;
  RecorderHooks hooks;
  hooks.before_encode = [] { std::this_thread::sleep_for(std::chrono::milliseconds(40)); };
  Recorder recorder(64, hooks);
  recorder.start(settings_in(dir.path().string()));
  constexpr int kOffered = 60;
  for (int n = 0; n < kOffered; ++n) {
    Image f = test::synthetic_frame(64, 48, n);
    ASSERT_TRUE(recorder.submit(std::move(f.rgba), 64, 48, n / 30.0));
  }
  const std::uint64_t dropped = recorder.finish(std::chrono::milliseconds(300), kDeadline);
  EXPECT_GT(dropped, 0u) << "60 frames at 40 ms each do not fit in 300 ms";
  const RecorderStats s = recorder.stats();
  EXPECT_EQ(s.frames_written + dropped, static_cast<std::uint64_t>(kOffered));
  EXPECT_GT(s.frames_written, 0u);
  EXPECT_TRUE(s.file.empty()) << "the file is finished";
  const auto files = videos_in(dir.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(test::decode_video(files[0]).frames.size(), s.frames_written);
}

// The canvas-sized buffers of encoded frames serve the next frames while recording; once it is
// off they go (they stayed, up to record.queue_frames of them: hundreds of MB at 4K, for weeks).
TEST(Recorder, StoppingLetsGoOfTheSpareFrameBuffers) {
  test::ScratchDir dir;
  Recorder recorder(4);
  recorder.start(settings_in(dir.path().string()));
  feed(recorder, 10, 192, 108, test::synthetic_frame);
  ASSERT_TRUE(test::wait_until([&] { return recorder.stats().frames_written == 10; }, kDeadline));
  EXPECT_GE(recorder.buffer(16).capacity(), 192u * 108 * 4) << "an encoded frame's buffer";
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  EXPECT_EQ(recorder.buffer(0).capacity(), 0u) << "a spare buffer outlived the recording";
}

TEST(Recorder, TheEncoderGivesWayToTheDisplayThreads) {
  // The encoder thread runs at a lower priority (higher nice) than the thread that made the
  // recorder, so on a loaded machine recording drops frames rather than slowing the picture.
  test::ScratchDir dir;
  errno = 0;
  const int ours = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  ASSERT_EQ(errno, 0);
  std::atomic<int> encoder_nice{-100};
  RecorderHooks hooks;
  hooks.before_encode = [&] {
    encoder_nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  };
  Recorder recorder(4, hooks);
  recorder.start(settings_in(dir.path().string()));
  feed(recorder, 1, 64, 48, test::synthetic_frame);
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  EXPECT_EQ(encoder_nice.load(), std::min(19, ours + 10));
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), ours);  // ours unchanged
}

struct StopWatch {
  std::mutex mutex;
  std::vector<std::string> warnings;
  std::vector<StopCause> causes;
  RecorderHooks hooks() {
    RecorderHooks h;
    h.on_stopped = [this](const std::string& w, StopCause cause) {
      std::lock_guard lock(mutex);
      warnings.push_back(w);
      causes.push_back(cause);
    };
    return h;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return warnings.size();
  }
  std::string first() {
    std::lock_guard lock(mutex);
    return warnings.empty() ? "" : warnings.front();
  }
  std::optional<StopCause> first_cause() {
    std::lock_guard lock(mutex);
    if (causes.empty()) return std::nullopt;
    return causes.front();
  }
};

TEST(Recorder, UnwritableFolderStopsRecordingWithAWarningNamingIt) {
  test::ScratchDir scratch;
  const std::string file = scratch / "not-a-folder";
  std::ofstream(file) << "x";
  StopWatch watch;
  Recorder recorder(4, watch.hooks());
  recorder.start(settings_in(file + "/videos"));
  Image f = test::synthetic_frame(64, 48, 0);
  ASSERT_TRUE(recorder.submit(std::move(f.rgba), 64, 48, 0));
  ASSERT_TRUE(test::wait_until([&] { return watch.count() == 1; }, kDeadline));
  EXPECT_NE(watch.first().find(file), std::string::npos) << watch.first();
  const RecorderStats stats = recorder.stats();
  EXPECT_FALSE(stats.recording);
  EXPECT_EQ(stats.last_error, watch.first());
  EXPECT_EQ(stats.frames_written, 0u);
  Image g = test::synthetic_frame(64, 48, 1);
  EXPECT_FALSE(recorder.submit(std::move(g.rgba), 64, 48, 1 / 30.0));  // off now
  // Fixed: recording starts again and works.
  recorder.start(settings_in(scratch / "ok"));
  feed(recorder, 3, 64, 48, test::synthetic_frame);
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  EXPECT_EQ(recorder.stats().frames_written, 3u);
  EXPECT_EQ(recorder.stats().last_error, "") << "mended: the problems list no longer shows it";
}

// A screenshot that could not be written is status's last_error (a problem) until one is.
TEST(StillWriter, AFailureIsAProblemUntilAScreenshotIsWritten) {
  test::ScratchDir scratch;
  const std::string file = scratch / "not-a-folder";
  std::ofstream(file) << "x";
  StillWriter stills;
  ASSERT_TRUE(stills.submit(test::synthetic_frame(32, 24, 0), {"record.dir", file + "/shots", ""}));
  ASSERT_TRUE(stills.wait_idle(kDeadline));
  EXPECT_EQ(stills.stats().failed, 1u);
  EXPECT_NE(stills.stats().last_error.find(file), std::string::npos) << stills.stats().last_error;
  ASSERT_TRUE(stills.submit(test::synthetic_frame(32, 24, 1), {"record.dir", scratch / "ok", ""}));
  ASSERT_TRUE(stills.wait_idle(kDeadline));
  EXPECT_EQ(stills.stats().written, 1u);
  EXPECT_EQ(stills.stats().last_error, "");
}

// record.mount checked before each file (a USB disk unplugged, the next file due): a stop of the
// disk's (it may mend), naming the mount point, and no folder made under it.
TEST(Recorder, DiskNotMountedStopsRecordingForTheDisk) {
  test::ScratchDir scratch;
  const fs::path mount_point = scratch / "usb";
  fs::create_directories(mount_point);
  StopWatch watch;
  Recorder recorder(4, watch.hooks());
  RecordSettings s = settings_in((mount_point / "videos").string());
  s.mount = mount_point.string();
  recorder.start(s);
  Image f = test::synthetic_frame(64, 48, 0);
  ASSERT_TRUE(recorder.submit(std::move(f.rgba), 64, 48, 0));
  ASSERT_TRUE(test::wait_until([&] { return watch.count() == 1; }, kDeadline));
  EXPECT_NE(watch.first().find("nothing is mounted at " + mount_point.string()), std::string::npos)
      << watch.first();
  EXPECT_EQ(watch.first_cause(), StopCause::Disk);
  EXPECT_TRUE(fs::is_empty(mount_point));
}

TEST(Recorder, DiskFloorStopsRecordingAndLeavesAPlayableFile) {
  test::ScratchDir dir;
  std::atomic<std::uint64_t> free_mb{100};
  StopWatch watch;
  RecorderHooks hooks = watch.hooks();
  hooks.free_space = [&](const std::string&) -> std::optional<std::uint64_t> {
    return free_mb.load() << 20;
  };
  Recorder recorder(4, hooks);
  RecordSettings s = settings_in(dir.path().string());
  s.min_free_bytes = 50ull << 20;
  recorder.start(s);
  feed(recorder, 30, 64, 48, test::synthetic_frame);  // one second: one check, above the floor
  ASSERT_TRUE(test::wait_until([&] { return recorder.stats().frames_written == 30; }, kDeadline));
  EXPECT_EQ(recorder.stats().free_bytes, 100ull << 20);
  free_mb = 10;
  for (int n = 30; n < 90 && watch.count() == 0; ++n) {
    ASSERT_TRUE(
        test::wait_until([&] { return recorder.has_room() || watch.count() > 0; }, kDeadline));
    Image f = test::synthetic_frame(64, 48, n);
    recorder.submit(std::move(f.rgba), 64, 48, n / 30.0);
  }
  ASSERT_TRUE(test::wait_until([&] { return watch.count() == 1; }, kDeadline));
  EXPECT_NE(watch.first().find("record.min_free_mb"), std::string::npos) << watch.first();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  const RecorderStats stats = recorder.stats();
  EXPECT_FALSE(stats.recording);
  const auto files = videos_in(dir.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(test::decode_video(files[0]).frames.size(), stats.frames_written);
  // Below the floor a new recording does not even open a file.
  recorder.start(s);
  Image f = test::synthetic_frame(64, 48, 0);
  recorder.submit(std::move(f.rgba), 64, 48, 0);
  ASSERT_TRUE(test::wait_until([&] { return watch.count() == 2; }, kDeadline));
  EXPECT_EQ(videos_in(dir.path()).size(), 1u);
}

// A real write failure: the file system refuses bytes beyond a size (RLIMIT_FSIZE, the same
// error path as a full disk), in a child process so the limit touches nothing else.
TEST(RecorderDeathTest, WriteFailureStopsRecordingCleanly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  test::ScratchDir dir;
  const auto child = [&] {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{256 * 1024, 256 * 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    StopWatch watch;
    Recorder recorder(4, watch.hooks());
    recorder.start(settings_in(dir.path().string()));
    for (int n = 0; n < 200 && watch.count() == 0; ++n) {
      if (!test::wait_until([&] { return recorder.has_room() || watch.count() > 0; }, kDeadline))
        std::_Exit(3);
      Image f = test::noisy_frame(160, 120, n);
      recorder.submit(std::move(f.rgba), 160, 120, n / 30.0);
    }
    if (!test::wait_until([&] { return watch.count() == 1; }, kDeadline)) std::_Exit(4);
    if (recorder.stats().recording) std::_Exit(5);
    std::fprintf(stderr, "stopped: %s\n", watch.first().c_str());
    std::_Exit(0);
  };
  EXPECT_EXIT(child(), testing::ExitedWithCode(0), "stopped: .*(File too large|writing)");
}

TEST(Recorder, HevcWhenAskedAndAvailable) {
  const auto candidates = encoder_candidates(RecordCodec::Hevc);
  const bool hevc = !candidates.empty() &&
                    (candidates.front() == "hevc_nvenc" || candidates.front() == "libx265");
  if (!hevc) GTEST_SKIP() << "no HEVC encoder in this libavcodec";
  test::ScratchDir dir;
  Recorder recorder(4);
  RecordSettings s = settings_in(dir.path().string());
  s.codec = RecordCodec::Hevc;
  recorder.start(s);
  feed(recorder, 10, 128, 72, test::synthetic_frame);
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  const auto files = videos_in(dir.path());
  ASSERT_EQ(files.size(), 1u);
  const test::DecodedVideo video = test::decode_video(files[0]);
  EXPECT_EQ(video.codec, "hevc");
  EXPECT_EQ(video.frames.size(), 10u);
}

TEST(Recorder, EncoderCandidatesPreferNvencThenSoftware) {
  const auto h264 = encoder_candidates(RecordCodec::H264);
  ASSERT_FALSE(h264.empty());
  EXPECT_EQ(h264.back(), "mpeg4");  // the last resort every libavcodec has
  const auto nvenc = std::find(h264.begin(), h264.end(), "h264_nvenc");
  const auto x264 = std::find(h264.begin(), h264.end(), "libx264");
  if (nvenc != h264.end() && x264 != h264.end()) {
    EXPECT_LT(nvenc, x264);
  }
}

// FFmpeg's own errors while writing (NVENC out of memory mid-recording) reach the log as
// warnings: with only "Generic error in an external library" the operator could not tell why a
// recording stopped.
TEST(Recorder, FfmpegErrorsWhileWritingReachTheLogAsWarnings) {
  route_ffmpeg_log();
  LogBoard& board = LogBoard::install();
  const std::uint64_t before = board.warnings();
  av_log(nullptr, AV_LOG_ERROR, "injected encoder failure %d\n", 42);
  ASSERT_GT(board.warnings(), before);
  const std::vector<LogEntry> recent = board.recent();
  ASSERT_FALSE(recent.empty());
  EXPECT_NE(recent.back().text.find("ffmpeg: injected encoder failure 42"), std::string::npos)
      << recent.back().text;
  av_log(nullptr, AV_LOG_VERBOSE, "chatter\n");
  EXPECT_EQ(board.recent().back().text, recent.back().text) << "below warnings stays at debug";
}

}  // namespace
}  // namespace dw::record
