// The render loop against a real OpenGL context: a minimised window is not drawn and the loop
// sleeps on the event queue instead of spinning.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "core/config_store.h"
#include "core/frame_ring.h"
#include "render/presenter.h"
#include "render/render_loop.h"
#include "render/window.h"

namespace dw::render {
namespace {

void push_window_event(Uint8 what) {
  SDL_Event e{};
  e.type = SDL_WINDOWEVENT;
  e.window.event = what;
  SDL_PushEvent(&e);
}

TEST(RenderLoopGl, MinimisedWindowWaitsForEventsAndDrawsNothing) {
  if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr)
    GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)";
  Config config;
  config.display.width = 64;
  config.display.height = 64;
  config.display.headless_paced = false;  // flat out: only the minimised wait may slow the loop
  ConfigStore store(config);
  FrameRing<Frame> ring(8);
  Window window(config.display, /*headless=*/true);
  Presenter presenter(ring, make_host_frame_uploader());
  RenderLoop loop(window, presenter, nullptr, store, ring.capacity(),
                  [&ring] { return ring.size(); });
  RenderLoopOptions options;
  options.frames = 5;
  options.startup_timeout_s = 0;  // count frames at once (the ring stays empty)

  push_window_event(SDL_WINDOWEVENT_MINIMIZED);
  std::atomic<bool> quit{false};
  std::jthread restorer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    push_window_event(SDL_WINDOWEVENT_RESTORED);
  });
  const std::uint64_t presented = loop.run(options, quit, {});
  EXPECT_EQ(presented, 5u) << "after the restore the loop draws again";
  EXPECT_GE(loop.minimised_waits(), 1u);
  // Each wait lasts until an event or 100 ms: about 5 in half a second; a spinning loop would
  // have gone round thousands of times. A slow machine only makes the count smaller.
  EXPECT_LE(loop.minimised_waits(), 50u);
}

}  // namespace
}  // namespace dw::render
