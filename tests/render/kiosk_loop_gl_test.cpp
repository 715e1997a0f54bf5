// Kiosk mode through the real render loop: synthesised key presses (SDL_PushEvent) reach it as a
// keyboard's would. In kiosk mode Esc and F1 do nothing and the chords work; outside it Esc quits
// and F1 opens the overlay as before.
#include <gtest/gtest.h>

#include <optional>

#include "gl_stage.h"
#include "render/overlay.h"

namespace dw::render {
namespace {

constexpr long long kFrames = 12;

class KioskLoop : public GlStage {
 protected:
  void SetUp() override {
    config_.display.width = 64;
    config_.display.height = 64;
    config_.display.headless_paced = false;
    open_stage();
    if (IsSkipped()) return;
    overlay_.emplace(window_->sdl(), window_->gl_context(), *store_, /*visible=*/false, "");
    open_loop(&*overlay_);
    SDL_FlushEvents(SDL_FIRSTEVENT, SDL_LASTEVENT);
  }

  void set_kiosk(bool on) {
    Config c = *store_->get();
    c.kiosk.enabled = on;
    store_->publish(c);
  }

  // Runs the loop for at most kFrames frames; returns how many it presented before it stopped.
  std::uint64_t run() { return run_loop(kFrames); }

  std::optional<Overlay> overlay_;
};

TEST_F(KioskLoop, EscDoesNotQuitInKioskModeTheChordDoes) {
  set_kiosk(true);
  push_key(SDLK_ESCAPE);
  EXPECT_EQ(run(), static_cast<std::uint64_t>(kFrames)) << "Esc must not end a kiosk";
  push_key(SDLK_q, KMOD_LCTRL | KMOD_LALT);
  EXPECT_EQ(run(), 0u) << "Ctrl+Alt+Q quits at once";
}

// A window manager's close (Alt+F4, the title bar's button) reaches SDL as SDL_QUIT.
void push_close() {
  SDL_Event e{};
  e.type = SDL_QUIT;
  ASSERT_EQ(SDL_PushEvent(&e), 1) << SDL_GetError();
}

TEST_F(KioskLoop, ClosingTheWindowDoesNotEndAKioskButEndsAWindow) {
  set_kiosk(true);
  push_close();
  EXPECT_EQ(run(), static_cast<std::uint64_t>(kFrames)) << "Alt+F4 must not end a kiosk";
  set_kiosk(false);
  push_close();
  EXPECT_EQ(run(), 0u) << "outside kiosk mode closing the window quits";
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
