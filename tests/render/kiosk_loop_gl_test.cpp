// Kiosk mode through the real render loop: synthesised key presses (SDL_PushEvent) reach it as a
// keyboard's would. In kiosk mode Esc and F1 do nothing and the chords work; outside it Esc quits
// and F1 opens the overlay as before.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <optional>

#include "core/config_store.h"
#include "core/frame_ring.h"
#include "render/overlay.h"
#include "render/presenter.h"
#include "render/render_loop.h"
#include "render/window.h"

namespace dw::render {
namespace {

constexpr long long kFrames = 12;

void push_key(SDL_Keycode sym, Uint16 mod = KMOD_NONE) {
  SDL_Event e{};
  e.type = SDL_KEYDOWN;
  e.key.state = SDL_PRESSED;
  e.key.keysym.sym = sym;
  e.key.keysym.mod = mod;
  ASSERT_EQ(SDL_PushEvent(&e), 1) << SDL_GetError();
}

class KioskLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr)
      GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)";
    config_.display.width = 64;
    config_.display.height = 64;
    config_.display.headless_paced = false;
    window_.emplace(config_.display, /*headless=*/true);
    store_.emplace(config_);
    presenter_.emplace(ring_, make_host_frame_uploader());
    overlay_.emplace(window_->sdl(), window_->gl_context(), *store_, /*visible=*/false, "");
    loop_.emplace(*window_, *presenter_, &*overlay_, *store_, ring_.capacity(),
                  [this] { return ring_.size(); });
    SDL_FlushEvents(SDL_FIRSTEVENT, SDL_LASTEVENT);
  }

  void set_kiosk(bool on) {
    Config c = *store_->get();
    c.kiosk.enabled = on;
    store_->publish(c);
  }

  // Runs the loop for at most kFrames frames; returns how many it presented before it stopped.
  std::uint64_t run() {
    RenderLoopOptions options;
    options.frames = kFrames;
    options.startup_timeout_s = 0;  // count frames at once (the ring stays empty)
    std::atomic<bool> quit{false};
    return loop_->run(options, quit, {});
  }

  Config config_;
  FrameRing<Frame> ring_{8};
  std::optional<Window> window_;
  std::optional<ConfigStore> store_;
  std::optional<Presenter> presenter_;
  std::optional<Overlay> overlay_;
  std::optional<RenderLoop> loop_;
};

TEST_F(KioskLoop, EscDoesNotQuitInKioskModeTheChordDoes) {
  set_kiosk(true);
  push_key(SDLK_ESCAPE);
  EXPECT_EQ(run(), static_cast<std::uint64_t>(kFrames)) << "Esc must not end a kiosk";
  push_key(SDLK_q, KMOD_LCTRL | KMOD_LALT);
  EXPECT_EQ(run(), 0u) << "Ctrl+Alt+Q quits at once";
}

TEST_F(KioskLoop, OverlayOpensOnlyWithTheChordInKioskMode) {
  set_kiosk(true);
  push_key(SDLK_F1);
  push_key(SDLK_TAB);
  run();
  EXPECT_FALSE(overlay_->visible()) << "F1 and Tab do nothing in kiosk mode";
  push_key(SDLK_o, KMOD_RCTRL | KMOD_LALT);
  run();
  EXPECT_TRUE(overlay_->visible());
  push_key(SDLK_o, KMOD_RCTRL | KMOD_LALT);
  run();
  EXPECT_FALSE(overlay_->visible()) << "the chord closes it again";
}

TEST_F(KioskLoop, ChordsOffLeaveOnlyTheRemoteAndSignals) {
  Config c = *store_->get();
  c.kiosk.enabled = true;
  c.kiosk.chords = false;
  store_->publish(c);
  push_key(SDLK_q, KMOD_LCTRL | KMOD_LALT);
  push_key(SDLK_ESCAPE);
  EXPECT_EQ(run(), static_cast<std::uint64_t>(kFrames));
  std::atomic<bool> quit{true};  // the signal handler's flag
  RenderLoopOptions options;
  options.startup_timeout_s = 0;
  EXPECT_EQ(loop_->run(options, quit, {}), 0u);
}

TEST_F(KioskLoop, OutsideKioskModeEscQuitsAndF1OpensTheOverlay) {
  set_kiosk(false);
  push_key(SDLK_F1);
  run();
  EXPECT_TRUE(overlay_->visible());
  push_key(SDLK_ESCAPE);
  EXPECT_EQ(run(), 0u);
}

TEST_F(KioskLoop, CursorHiddenInKioskModeShownWithTheOverlay) {
  set_kiosk(true);
  run();
  EXPECT_EQ(SDL_ShowCursor(SDL_QUERY), SDL_DISABLE);
  push_key(SDLK_o, KMOD_CTRL | KMOD_ALT);
  run();
  EXPECT_EQ(SDL_ShowCursor(SDL_QUERY), SDL_ENABLE) << "the overlay is used with the mouse";
  push_key(SDLK_o, KMOD_CTRL | KMOD_ALT);
  set_kiosk(false);
  run();
  EXPECT_EQ(SDL_ShowCursor(SDL_QUERY), SDL_ENABLE) << "a window outside kiosk mode shows it";
  set_kiosk(true);
  run();
  EXPECT_EQ(SDL_ShowCursor(SDL_QUERY), SDL_DISABLE) << "kiosk mode applies live";
}

}  // namespace
}  // namespace dw::render
