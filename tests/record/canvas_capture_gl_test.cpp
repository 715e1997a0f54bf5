// The canvas read-back under a real OpenGL context (Mesa llvmpipe under Xvfb): pixel-pack buffers
// give exactly what a synchronous read gives, and the render loop with recording on writes an
// MP4 that decodes to the frames it read back (PSNR >= 35 dB) plus a screenshot equal to its frame.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/commands.h"
#include "core/config_store.h"
#include "core/frame_ring.h"
#include "record/capture_router.h"
#include "render/canvas_capture.h"
#include "render/offscreen.h"
#include "render/presenter.h"
#include "render/render_loop.h"
#include "render/window.h"
#include "support/test_support.h"
#include "video_check.h"

namespace dw {
namespace {

namespace fs = std::filesystem;
constexpr auto kDeadline = std::chrono::milliseconds(120000);

bool have_display() {
  return std::getenv("DISPLAY") != nullptr || std::getenv("WAYLAND_DISPLAY") != nullptr;
}

// Wants every frame; keeps what it is given.
class KeepAll final : public CanvasSink {
 public:
  CanvasWants wants(double) override { return {true, false}; }
  std::vector<std::uint8_t> buffer(std::size_t bytes) override {
    return std::vector<std::uint8_t>(bytes);
  }
  void take(CanvasFrame frame) override { frames.push_back(std::move(frame)); }
  void missed(CanvasWants) override { ++misses; }
  std::vector<CanvasFrame> frames;
  int misses = 0;
};

TEST(CanvasCaptureGl, AsyncReadBackEqualsASynchronousRead) {
  if (!have_display()) GTEST_SKIP() << "no display: run under xvfb-run";
  Config config;
  config.display.width = 96;
  config.display.height = 64;
  render::Window window(config.display, /*headless=*/true);
  render::Offscreen target(96, 64);
  target.bind();
  KeepAll sink;
  std::map<double, Image> expected;
  {
    render::CanvasCapture capture(sink, 2);
    DW_GL_CHECK(glEnable(GL_SCISSOR_TEST));
    for (int n = 0; n < 12; ++n) {
      DW_GL_CHECK(glScissor(0, 0, 96, 64));
      DW_GL_CHECK(glClearColor(n / 12.0f, 0.5f, 1.0f - n / 12.0f, 1.0f));
      DW_GL_CHECK(glClear(GL_COLOR_BUFFER_BIT));
      DW_GL_CHECK(glScissor(4 * n, 10, 20, 30 - n));  // a block that moves: rows and columns show
      DW_GL_CHECK(glClearColor(1.0f, 1.0f, 0.0f, 1.0f));
      DW_GL_CHECK(glClear(GL_COLOR_BUFFER_BIT));
      capture.after_draw(96, 64, 0.25);
      expected[0.25 * (n + 1)] = render::read_framebuffer(96, 64);
    }
    DW_GL_CHECK(glDisable(GL_SCISSOR_TEST));
    capture.flush();
    EXPECT_EQ(capture.stats().reads, 12u);
  }
  EXPECT_EQ(sink.misses, 0);
  ASSERT_EQ(sink.frames.size(), 12u);
  for (const CanvasFrame& f : sink.frames) {
    ASSERT_TRUE(expected.count(f.t)) << f.t;
    EXPECT_EQ(f.width, 96);
    EXPECT_EQ(f.height, 64);
    EXPECT_TRUE(f.rgba == expected[f.t].rgba) << "frame at t=" << f.t;
  }
}

// Passes everything on to the router and keeps a copy of every frame read back for the video.
class Tee final : public CanvasSink {
 public:
  explicit Tee(CanvasSink& inner) : inner_(inner) {}
  CanvasWants wants(double t) override { return inner_.wants(t); }
  std::vector<std::uint8_t> buffer(std::size_t bytes) override { return inner_.buffer(bytes); }
  void take(CanvasFrame frame) override {
    Image copy;
    copy.width = frame.width;
    copy.height = frame.height;
    copy.rgba = frame.rgba;
    if (frame.wants.video) video.push_back(copy);
    if (frame.wants.still) stills.push_back(std::move(copy));
    inner_.take(std::move(frame));
  }
  void missed(CanvasWants wants) override {
    ++misses;
    inner_.missed(wants);
  }
  std::vector<Image> video, stills;
  int misses = 0;

 private:
  CanvasSink& inner_;
};

void push_moving_frames(FrameRing<Frame>& ring, int count, int w, int h) {
  for (int n = 0; n < count; ++n) {
    Frame* f = ring.begin_write();
    ASSERT_NE(f, nullptr);
    f->resize_host(w, h);
    const Image img = test::synthetic_frame(w, h, n * 4);
    std::copy(img.rgba.begin(), img.rgba.end(), f->host_rgba.begin());
    f->info.sequence = static_cast<std::uint64_t>(n + 1);
    ring.commit_write();
  }
}

TEST(CanvasCaptureGl, RenderLoopRecordingDecodesToItsReadBacksAndTakesAScreenshot) {
  if (!have_display()) GTEST_SKIP() << "no display: run under xvfb-run";
  test::ScratchDir dir;
  constexpr int kW = 160, kH = 96, kFrames = 40;
  Config config;
  config.display.width = kW;
  config.display.height = kH;
  config.display.fit = FitMode::Stretch;
  config.display.headless_paced = false;
  config.display.headless_fps = 60;
  config.display.content_fps = 30;
  config.playback.min_buffer_s = 0;
  config.record.dir = dir.path().string();
  config.record.fps = 60;
  ConfigStore store(config);
  FrameRing<Frame> ring(64);
  push_moving_frames(ring, 64, kW, kH);
  render::Window window(config.display, /*headless=*/true);
  render::Presenter presenter(ring, render::make_host_frame_uploader());
  render::RenderLoop loop(window, presenter, nullptr, store, ring.capacity(),
                          [&ring] { return ring.size(); });

  Commands commands;
  record::Recorder recorder(kFrames + 8);  // room for every frame: the count is exact
  record::StillWriter stills;
  record::CaptureRouter router(store, commands, recorder, stills);
  Tee tee(router);
  commands.recording = true;
  commands.screenshot.fetch_add(1);
  render::RenderLoopOptions options;
  options.frames = kFrames;
  options.canvas_sink = &tee;
  std::atomic<bool> quit{false};
  ASSERT_EQ(loop.run(options, quit, {}), static_cast<std::uint64_t>(kFrames));
  commands.recording = false;
  recorder.stop();
  ASSERT_TRUE(recorder.wait_idle(kDeadline));
  ASSERT_TRUE(stills.wait_idle(kDeadline));

  EXPECT_EQ(tee.misses, 0);
  ASSERT_EQ(tee.video.size(), static_cast<std::size_t>(kFrames));  // record.fps = display rate
  const record::RecorderStats stats = recorder.stats();
  EXPECT_EQ(stats.frames_written, static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(stats.frames_dropped, 0u);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir.path()))
    if (e.path().extension() == ".mp4") files.push_back(e.path().string());
  ASSERT_EQ(files.size(), 1u);
  const test::DecodedVideo video = test::decode_video(files[0]);
  ASSERT_EQ(video.frames.size(), tee.video.size());
  double worst = 1e9;
  for (std::size_t i = 0; i < video.frames.size(); ++i)
    worst = std::min(worst, test::psnr_rgb(video.frames[i], tee.video[i]));
  EXPECT_GE(worst, 35.0) << stats.encoder;
  EXPECT_NE(tee.video.front().rgba, tee.video.back().rgba) << "the content moved";

  ASSERT_EQ(tee.stills.size(), 1u);
  ASSERT_EQ(stills.stats().written, 1u);
  const Image png = load_image(stills.stats().last_file);
  ASSERT_EQ(png.width, kW);
  ASSERT_EQ(png.height, kH);
  for (std::size_t i = 0; i < png.rgba.size(); ++i) {
    if (i % 4 == 3) continue;  // alpha: the PNG has none
    ASSERT_EQ(png.rgba[i], tee.stills[0].rgba[i]) << "byte " << i;
  }
}

}  // namespace
}  // namespace dw
