// The render loop's side of the operator's Commands and keys, against a real OpenGL context:
// freeze holds the picture exactly (idle motion included) and unfreezing moves on; a quit command
// ends the loop; the keys run their actions through the ActionTable, off the render thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
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
  std::atomic<bool> saw_frames{false};
  std::jthread asker([&] {
    // Quits whatever it saw: a failed wait must fail the test, not leave the loop running.
    saw_frames = test::wait_until([this] { return loop_->live().frames.load() >= 5; });
    commands_.quit.fetch_add(1);
  });
  options_.frames = 0;  // until quit
  const std::uint64_t presented = loop_->run(options_, quit_, {});
  EXPECT_TRUE(saw_frames.load());
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
  ASSERT_TRUE(test::wait_until([&] {
    std::lock_guard lock(mutex);
    return ran.size() >= 7;
  }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(ran,
            (std::vector<std::string>{"toggle_pause", "toggle_freeze", "next_theme", "inject_now",
                                      "toggle_recording", "screenshot", "screenshot"}));
  for (const KeyAction& k : key_actions()) EXPECT_TRUE(actions.contains(k.action)) << k.name;
}

// Starting a recording or taking a screenshot checks its folder first; on a network share that
// stops answering the check hangs. The picture must go on meanwhile: the key's action runs off the
// render thread. Here R's action holds until the loop has presented more frames (or gives up).
TEST_F(RenderControlGl, AKeysActionThatHangsDoesNotHoldThePicture) {
  ActionTable actions;
  std::atomic<bool> frames_went_on{false};
  actions.add("toggle_recording", "test", [&] {
    const std::uint64_t at_press = loop_->live().frames.load();
    frames_went_on = test::wait_until([&] { return loop_->live().frames.load() >= at_press + 20; });
    return ActionResult{true, "started"};
  });
  options_.actions = &actions;
  SDL_Event e{};
  e.type = SDL_KEYDOWN;
  e.key.keysym.sym = SDLK_r;
  SDL_PushEvent(&e);
  push_pattern();
  run_frames(60);
  EXPECT_TRUE(frames_went_on.load()) << "the loop stood still while R's action ran";
}

// Presses behind an action that does not finish are dropped past a bound, not queued without end.
TEST(KeyActionRunner, PressesBehindAStuckActionAreBoundedAndTheRestRunInOrder) {
  ActionTable actions;
  std::mutex mutex;
  std::condition_variable released_cv;
  bool released = false;
  std::vector<std::string> ran;
  actions.add("toggle_recording", "test", [&] {
    std::unique_lock lock(mutex);
    released_cv.wait_for(lock, std::chrono::seconds(30), [&] { return released; });
    ran.emplace_back("toggle_recording");
    return ActionResult{true, ""};
  });
  actions.add("next_theme", "test", [&] {
    std::lock_guard lock(mutex);
    ran.emplace_back("next_theme");
    return ActionResult{true, ""};
  });
  KeyActionRunner runner;
  EXPECT_FALSE(runner.press(actions, SDLK_x)) << "a key with no action";
  ASSERT_TRUE(runner.press(actions, SDLK_r));
  int taken = 0;
  for (int i = 0; i < 100; ++i) taken += runner.press(actions, SDLK_n) ? 1 : 0;
  EXPECT_GE(taken, 1);
  EXPECT_LT(taken, 100) << "presses behind a stuck action must be bounded";
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  released_cv.notify_all();
  ASSERT_TRUE(runner.wait_idle(std::chrono::seconds(10)));
  std::lock_guard lock(mutex);
  ASSERT_EQ(ran.size(), static_cast<std::size_t>(taken) + 1);
  EXPECT_EQ(ran.front(), "toggle_recording") << "in the order pressed";
}

}  // namespace
}  // namespace dw::render
