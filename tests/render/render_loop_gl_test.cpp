// The render loop against a real OpenGL context: a minimised window is not drawn and the loop
// sleeps on the event queue instead of spinning (another window's minimise pauses nothing, nor
// does its own while it feeds projector outputs); a
// turn that throws leaves the last picture and the loop goes on, unless the fault never clears; a
// GPU reset ends the run at once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

#include "core/config_store.h"
#include "core/error.h"
#include "core/frame_ring.h"
#include "gl_stage.h"
#include "render/gl_reset.h"
#include "render/outputs.h"
#include "render/presenter.h"
#include "render/render_loop.h"
#include "render/window.h"

namespace dw::render {
namespace {

void push_window_event(Uint8 what, Uint32 window_id) {
  SDL_Event e{};
  e.type = SDL_WINDOWEVENT;
  e.window.event = what;
  e.window.windowID = window_id;
  SDL_PushEvent(&e);
}

Uint32 id_of(const Window& window) {
  return window.sdl() != nullptr ? SDL_GetWindowID(window.sdl()) : 0;
}

#define DW_SKIP_WITHOUT_DISPLAY()                                                     \
  if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr) \
  GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)"

// Uploads that throw (a driver refusing one, a sticky GPU fault): the first `failures` throw.
class FailingUploader final : public FrameUploader {
 public:
  explicit FailingUploader(int failures) : failures_left_(failures) {}
  void upload(const Frame& frame, unsigned texture) override {
    if (failures_left_ > 0) {
      --failures_left_;
      throw Error("injected upload failure");
    }
    real_->upload(frame, texture);
  }
  void release_storage(unsigned texture) override { real_->release_storage(texture); }

 private:
  int failures_left_;
  std::unique_ptr<FrameUploader> real_ = make_host_frame_uploader();
};

// A headless 64x64 loop running flat out (nothing paces it but what a test makes wait), its
// presenter fed by `uploader`, and a run that counts frames at once (startup_timeout_s 0).
struct HeadlessLoop {
  explicit HeadlessLoop(std::unique_ptr<FrameUploader> uploader = make_host_frame_uploader())
      : store(small_config()),
        window(store.get()->display, /*headless=*/true),
        presenter(ring, std::move(uploader)),
        loop(window, presenter, nullptr, store, ring.capacity(), [this] { return ring.size(); }) {}
  static Config small_config() {
    Config c;
    c.display.width = 64;
    c.display.height = 64;
    c.display.headless_paced = false;
    return c;
  }
  std::uint64_t run(int frames, std::function<unsigned()> reset_status = {}) {
    RenderLoopOptions options;
    options.frames = frames;
    options.startup_timeout_s = 0;
    options.reset_status = std::move(reset_status);
    return loop.run(options, quit, {});
  }
  ConfigStore store;
  FrameRing<Frame> ring{8};
  Window window;
  Presenter presenter;
  RenderLoop loop;
  std::atomic<bool> quit{false};
};

TEST(RenderLoopGl, MinimisedWindowWaitsForEventsAndDrawsNothing) {
  DW_SKIP_WITHOUT_DISPLAY();
  HeadlessLoop h;  // the ring stays empty: only the minimised wait may slow the loop
  const Uint32 own = id_of(h.window);
  push_window_event(SDL_WINDOWEVENT_MINIMIZED, own);
  std::jthread restorer([own] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    push_window_event(SDL_WINDOWEVENT_RESTORED, own);
  });
  EXPECT_EQ(h.run(5), 5u) << "after the restore the loop draws again";
  EXPECT_GE(h.loop.minimised_waits(), 1u);
  // Each wait lasts until an event or 100 ms: about 5 in half a second; a spinning loop would
  // have gone round thousands of times. A slow machine only makes the count smaller.
  EXPECT_LE(h.loop.minimised_waits(), 50u);
}

// Another window's minimise (an output window hidden while its projector is off, which some
// window managers report as minimised) pauses nothing: the main loop and every output go on.
TEST(RenderLoopGl, AnotherWindowsMinimiseDoesNotStopTheLoop) {
  DW_SKIP_WITHOUT_DISPLAY();
  HeadlessLoop h;
  push_window_event(SDL_WINDOWEVENT_MINIMIZED, id_of(h.window) + 7);
  EXPECT_EQ(h.run(200), 200u);
  EXPECT_EQ(h.loop.minimised_waits(), 0u) << "another window's minimise paused the loop";
}

// A window hidden while its display is away (an output's projector unplugged) has no refresh to
// wait for in its swap: the loop paces itself at the refresh rate instead of spinning flat out
// all night. Under Xvfb no swap waits either, so the time 20 frames take shows the pacing.
TEST(RenderLoopGl, AWindowHiddenWhileItsDisplayIsAwayDoesNotSpin) {
  DW_SKIP_WITHOUT_DISPLAY();
  Config c = HeadlessLoop::small_config();
  c.display.mode = DisplayMode::Borderless;
  c.display.display_index = 7;  // not there
  ConfigStore store(c);
  WindowOptions options;
  options.wait_for_display = true;
  options.hide_while_away = true;
  Window window(c.display, /*headless=*/false, options);
  ASSERT_TRUE(window.hidden());
  FrameRing<Frame> ring{8};
  Presenter presenter(ring, make_host_frame_uploader());
  RenderLoop loop(window, presenter, nullptr, store, ring.capacity(), [&] { return ring.size(); });
  RenderLoopOptions run;
  run.frames = 20;
  run.startup_timeout_s = 0;
  std::atomic<bool> quit{false};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(loop.run(run, quit, {}), 20u);
  const double took_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(took_ms, 19 * window.refresh_ms()) << "the hidden window's loop spun";
}

// A control window minimised while it feeds projector outputs of their own (outputs 2..) does not
// freeze them: the loop goes on drawing the canvas for their threads, paced at the refresh rate
// (a minimised window's swap waits for none) instead of waiting for the window to come back.
TEST(RenderLoopGl, AMinimisedWindowThatFeedsProjectorsGoesOnDrawingThem) {
  if (std::getenv("DISPLAY") == nullptr) GTEST_SKIP() << "no X display: run under xvfb-run";
  Config c = HeadlessLoop::small_config();
  c.display.vsync = false;  // Xvfb has no vblank: only the loop's own pacing can hold it
  c.display.idle_motion = 0;
  c.playback.min_buffer_s = 0;
  OutputConfig left, right;
  left.width = right.width = 32;
  left.height = right.height = 32;
  left.region = {0, 0, 0.5, 1};
  right.region = {0.5, 0, 0.5, 1};
  c.outputs.outputs = {left, right};
  ConfigStore store(c);
  Window window(main_window_config(c), /*headless=*/false);
  FrameRing<Frame> ring{8};
  Presenter presenter(ring, make_host_frame_uploader());
  Outputs outputs(window, c, /*headless=*/false);
  RenderLoop loop(window, presenter, nullptr, store, ring.capacity(), [&] { return ring.size(); });
  loop.set_outputs(&outputs);
  for (std::uint64_t i = 0; i < 4; ++i) push_pattern(ring, 64, static_cast<int>(i), i);
  // The windows' own shown and exposed events first: the loop would take one after the minimise
  // for a restore.
  SDL_PumpEvents();
  SDL_FlushEvent(SDL_WINDOWEVENT);
  push_window_event(SDL_WINDOWEVENT_MINIMIZED, id_of(window));
  RenderLoopOptions run;
  run.frames = 20;
  run.startup_timeout_s = 0;
  std::atomic<bool> quit{false};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(loop.run(run, quit, {}), 20u) << "the minimised window held the projectors";
  const double took_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(loop.minimised_waits(), 0u);
  EXPECT_GE(took_ms, 19 * window.refresh_ms()) << "the minimised window's loop spun";
  // The second output's thread shows what the loop draws (the wait is for its thread's swaps).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (outputs.stats()[1].presented == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GT(outputs.stats()[1].presented, 0u) << "the projector's output never drew";
  EXPECT_GT(presenter.stats().content_frames_shown, 0u);
}

// A frame that fails to reach the GPU a few times does not end the show: the loop keeps turning
// (the last picture stays), counts the failures, and shows the content once the fault clears.
TEST(RenderLoopGl, AFrameThatFailsAFewTimesDoesNotEndTheShow) {
  DW_SKIP_WITHOUT_DISPLAY();
  HeadlessLoop h(std::make_unique<FailingUploader>(5));
  for (std::uint64_t i = 0; i < 4; ++i) push_pattern(h.ring, 32, static_cast<int>(i), i);
  EXPECT_EQ(h.run(60), 60u);
  EXPECT_EQ(h.loop.live().failed_turns.load(), 5u);
  EXPECT_GT(h.presenter.stats().content_frames_shown, 0u) << "the content came once it could";
}

// A fault that never clears ends the run with an error naming it (the service manager restarts
// the program) instead of a loop that turns forever with nothing drawn.
TEST(RenderLoopGl, AFaultThatNeverClearsEndsTheRunWithItsReason) {
  DW_SKIP_WITHOUT_DISPLAY();
  HeadlessLoop h(std::make_unique<FailingUploader>(1 << 30));
  push_pattern(h.ring, 32, 0, 0);
  try {
    h.run(100000);
    ADD_FAILURE() << "the loop never gave up";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("injected upload failure"), std::string::npos) << e.what();
  }
  EXPECT_EQ(h.loop.live().failed_turns.load(), RenderLoop::kMaxFailedTurnsInARow);
}

// A GPU reset (the driver recovering from a hang) loses the context: from then on nothing drawn
// shows. The loop ends at the next turn with the reason, for the service manager to start the
// program again, instead of presenting into a dead context for weeks or counting 300 failures.
TEST(RenderLoopGl, AGpuResetEndsTheRunAtOnceWithItsReason) {
  DW_SKIP_WITHOUT_DISPLAY();
  HeadlessLoop h;
  for (std::uint64_t i = 0; i < 4; ++i) push_pattern(h.ring, 32, static_cast<int>(i), i);
  int asked = 0;
  const auto reset_after_ten = [&asked]() -> unsigned {
    return ++asked > 10 ? GL_INNOCENT_CONTEXT_RESET : GL_NO_ERROR;
  };
  try {
    h.run(100000, reset_after_ten);
    ADD_FAILURE() << "the loop went on after the reset";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("GPU was reset"), std::string::npos) << what;
    EXPECT_NE(what.find("another program's work"), std::string::npos) << what;
  }
  EXPECT_EQ(h.loop.live().frames.load(), 10u) << "no turn ran after the reset was seen";
  EXPECT_EQ(h.loop.live().failed_turns.load(), 0u);
}

// A healthy context reports no reset, whether or not its driver reports resets at all (Mesa's
// llvmpipe does not: it never resets).
TEST(RenderLoopGl, AHealthyContextReportsNoReset) {
  DW_SKIP_WITHOUT_DISPLAY();
  HeadlessLoop h;
  EXPECT_EQ(h.window.reset_status(), static_cast<unsigned>(GL_NO_ERROR));
  EXPECT_EQ(h.run(30), 30u);
}

}  // namespace
}  // namespace dw::render
