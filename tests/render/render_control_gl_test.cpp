// The render loop's side of the operator's Commands and keys, against a real OpenGL context:
// freeze holds the picture exactly (idle motion included) and unfreezing moves on; a quit command
// ends the loop; Space, F, N and I run their actions through the ActionTable.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "core/actions.h"
#include "core/commands.h"
#include "core/config_store.h"
#include "core/frame_ring.h"
#include "render/key_actions.h"
#include "render/presenter.h"
#include "render/render_loop.h"
#include "render/window.h"
#include "support/test_support.h"

namespace dw::render {
namespace {

constexpr int kSize = 96;

class RenderControlGl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr)
      GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)";
    config_.display.width = kSize;
    config_.display.height = kSize;
    config_.display.dither = false;
    config_.display.headless_paced = false;
    store_.emplace(config_);
    window_.emplace(config_.display, /*headless=*/true);
    presenter_.emplace(ring_, make_host_frame_uploader());
    loop_.emplace(*window_, *presenter_, nullptr, *store_, ring_.capacity(),
                  [this] { return ring_.size(); });
    options_.startup_timeout_s = 0;
    options_.commands = &commands_;
  }

  // One frame with structure, so the idle motion's zoom and drift change pixels.
  void push_pattern() {
    Frame* f = ring_.begin_write();
    ASSERT_NE(f, nullptr);
    f->resize_host(kSize, kSize);
    for (int y = 0; y < kSize; ++y)
      for (int x = 0; x < kSize; ++x) {
        std::uint8_t* p = &f->host_rgba[(static_cast<std::size_t>(y) * kSize + x) * 4];
        p[0] = static_cast<std::uint8_t>(((x + y) % 8) * 30);
        p[1] = static_cast<std::uint8_t>(2 * x);
        p[2] = static_cast<std::uint8_t>(((x * y) % 13) * 19);
        p[3] = 255;
      }
    f->info.sequence = 1;
    ring_.commit_write();
  }

  // Runs `frames` frames and returns the last one shown.
  Image run_frames(long long frames) {
    options_.frames = frames;
    options_.capture_last = true;
    loop_->run(options_, quit_, {});
    return *loop_->last_image();
  }

  Config config_;
  std::optional<ConfigStore> store_;
  FrameRing<Frame> ring_{8};
  std::optional<Window> window_;
  std::optional<Presenter> presenter_;
  std::optional<RenderLoop> loop_;
  RenderLoopOptions options_;
  Commands commands_;
  std::atomic<bool> quit_{false};
};

TEST_F(RenderControlGl, FreezeHoldsThePictureExactlyAndUnfreezingMovesOn) {
  push_pattern();  // one frame and nothing after it: the presenter's idle motion is on
  const Image moving = run_frames(60);
  ASSERT_TRUE(presenter_->stats().idle);
  commands_.frozen = true;
  const Image held_first = run_frames(1);
  const Image held_later = run_frames(90);
  EXPECT_EQ(held_first.rgba, moving.rgba) << "freezing keeps the frame that was on screen";
  EXPECT_EQ(held_later.rgba, held_first.rgba) << "nothing moves while frozen";
  commands_.frozen = false;
  const Image after = run_frames(90);
  EXPECT_NE(after.rgba, held_later.rgba) << "the idle motion goes on after unfreezing";
}

TEST_F(RenderControlGl, AQuitCommandEndsTheLoopAsASignalWould) {
  push_pattern();
  std::jthread asker([this] {
    ASSERT_TRUE(test::wait_until([this] { return loop_->live().frames.load() >= 5; }));
    commands_.quit.fetch_add(1);
  });
  options_.frames = 0;  // until quit
  const std::uint64_t presented = loop_->run(options_, quit_, {});
  EXPECT_GE(presented, 5u);
}

TEST_F(RenderControlGl, KeysRunTheirActionsThroughTheTable) {
  ActionTable actions;
  std::mutex mutex;
  std::vector<std::string> ran;
  for (const char* name : {"toggle_pause", "toggle_freeze", "next_theme", "inject_now"})
    actions.add(name, "test", [&, name] {
      std::lock_guard lock(mutex);
      ran.emplace_back(name);
      return ActionResult{true, name};
    });
  options_.actions = &actions;
  const auto press = [](SDL_Keycode key, bool repeat) {
    SDL_Event e{};
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = key;
    e.key.repeat = repeat ? 1 : 0;
    SDL_PushEvent(&e);
  };
  press(SDLK_SPACE, false);
  press(SDLK_SPACE, true);  // a held key repeats: not a second toggle
  press(SDLK_f, false);
  press(SDLK_n, false);
  press(SDLK_i, false);
  press(SDLK_x, false);  // no action
  push_pattern();
  run_frames(3);
  EXPECT_EQ(
      ran, (std::vector<std::string>{"toggle_pause", "toggle_freeze", "next_theme", "inject_now"}));
  for (const KeyAction& k : key_actions()) EXPECT_TRUE(actions.contains(k.action)) << k.name;
}

}  // namespace
}  // namespace dw::render
