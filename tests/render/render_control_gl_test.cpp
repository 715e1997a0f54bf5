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
#include "gl_stage.h"
#include "render/key_actions.h"
#include "support/test_support.h"

namespace dw::render {
namespace {

constexpr int kSize = 96;

class RenderControlGl : public GlStage {
 protected:
  void SetUp() override {
    config_.display.width = kSize;
    config_.display.height = kSize;
    config_.display.dither = false;
    config_.display.headless_paced = false;
    open_stage();
    if (IsSkipped()) return;
    open_loop();
    options_.startup_timeout_s = 0;
    options_.commands = &commands_;
  }

  // One frame with structure, so the idle motion's zoom and drift change pixels.
  void push_pattern() { render::push_pattern(ring_, kSize, 0, 1); }

  // Runs `frames` frames and returns the last one shown.
  Image run_frames(long long frames) {
    options_.frames = frames;
    options_.capture_last = true;
    loop_->run(options_, quit_, {});
    return *loop_->last_image();
  }

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
  for (const char* name : {"toggle_pause", "toggle_freeze", "next_theme", "inject_now",
                           "toggle_recording", "screenshot"})
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
  press(SDLK_r, false);
  press(SDLK_s, false);
  press(SDLK_F12, false);
  press(SDLK_x, false);  // no action
  push_pattern();
  run_frames(3);
  EXPECT_EQ(ran,
            (std::vector<std::string>{"toggle_pause", "toggle_freeze", "next_theme", "inject_now",
                                      "toggle_recording", "screenshot", "screenshot"}));
  for (const KeyAction& k : key_actions()) EXPECT_TRUE(actions.contains(k.action)) << k.name;
}

}  // namespace
}  // namespace dw::render
