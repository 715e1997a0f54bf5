// The stage that the GL tests of the presenter and the render loop stand on (under xvfb-run): a
// hidden window with its GL context, the config and its store, a frame ring with the host-frame
// presenter, and the render loop over them; plus helpers that commit test frames and push input
// into SDL's queue as a keyboard's or a mouse's would arrive.
#pragma once

#include <SDL.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "core/config.h"
#include "core/config_store.h"
#include "core/frame.h"
#include "core/frame_ring.h"
#include "render/presenter.h"
#include "render/render_loop.h"
#include "render/window.h"

namespace dw::render {

inline void push_key(SDL_Keycode sym, Uint16 mod = KMOD_NONE) {
  SDL_Event e{};
  e.type = SDL_KEYDOWN;
  e.key.state = SDL_PRESSED;
  e.key.keysym.sym = sym;
  e.key.keysym.mod = mod;
  ASSERT_EQ(SDL_PushEvent(&e), 1) << SDL_GetError();
}

inline void push_button(Uint32 type, int x, int y) {
  SDL_Event e{};
  e.type = type;
  e.button.button = SDL_BUTTON_LEFT;
  e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
  e.button.x = x;
  e.button.y = y;
  ASSERT_EQ(SDL_PushEvent(&e), 1) << SDL_GetError();
}

inline void push_motion(int x, int y) {
  SDL_Event e{};
  e.type = SDL_MOUSEMOTION;
  e.motion.state = SDL_BUTTON_LMASK;
  e.motion.x = x;
  e.motion.y = y;
  ASSERT_EQ(SDL_PushEvent(&e), 1) << SDL_GetError();
}

// Commits one size x size content frame of a single colour.
inline void push_solid(FrameRing<Frame>& ring, int size, std::uint8_t r, std::uint8_t g,
                       std::uint8_t b, std::uint64_t sequence) {
  Frame* f = ring.begin_write();
  ASSERT_NE(f, nullptr);
  f->resize_host(size, size);
  for (std::size_t i = 0; i < f->host_rgba.size(); i += 4) {
    f->host_rgba[i] = r;
    f->host_rgba[i + 1] = g;
    f->host_rgba[i + 2] = b;
    f->host_rgba[i + 3] = 255;
  }
  f->info.sequence = sequence;
  ring.commit_write();
}

// Commits one size x size content frame with structure (diagonal stripes shifted by `phase`, and
// gradients), so that zoom, drift and blends change pixels.
inline void push_pattern(FrameRing<Frame>& ring, int size, int phase, std::uint64_t sequence,
                         bool still = false) {
  Frame* f = ring.begin_write();
  ASSERT_NE(f, nullptr);
  f->resize_host(size, size);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      std::uint8_t* p = &f->host_rgba[(static_cast<std::size_t>(y) * size + x) * 4];
      p[0] = static_cast<std::uint8_t>(((x + y + phase) % 16) * 14 + 20);
      p[1] = static_cast<std::uint8_t>(40 + 3 * x);
      p[2] = static_cast<std::uint8_t>(40 + 3 * y);
      p[3] = 255;
    }
  f->info.sequence = sequence;
  f->info.still = still;
  ring.commit_write();
}

class GlStage : public ::testing::Test {
 protected:
  // Skips the test without a display; else opens the window, the store and the presenter for
  // config_. A fixture sets what it needs in config_ first, calls this, and returns from its own
  // SetUp when IsSkipped().
  void open_stage() {
    if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr)
      GTEST_SKIP() << "no display: run under xvfb-run (scripts/test.sh does)";
    window_.emplace(config_.display, /*headless=*/true);
    store_.emplace(config_);
    presenter_.emplace(ring_, make_host_frame_uploader());
  }

  // The render loop over the stage, with the overlay when one is given.
  void open_loop(Overlay* overlay = nullptr) {
    loop_.emplace(*window_, *presenter_, overlay, *store_, ring_.capacity(),
                  [this] { return ring_.size(); });
  }

  // Runs the loop for `frames` frames (0: until something ends it) with `options`, counting from
  // the first frame (no startup wait) and keeping the last image; returns the frames presented.
  std::uint64_t run_loop(long long frames, RenderLoopOptions options = {}) {
    options.frames = frames;
    options.startup_timeout_s = 0;
    options.capture_last = true;
    std::atomic<bool> quit{false};
    return loop_->run(options, quit, {});
  }

  // The loop goes first, before what a fixture added (an overlay, calibration, outputs, declared
  // in the fixture) and before the stage's window and presenter.
  void TearDown() override { loop_.reset(); }

  Config config_;
  FrameRing<Frame> ring_{8};
  std::optional<Window> window_;
  std::optional<ConfigStore> store_;
  std::optional<Presenter> presenter_;
  std::optional<RenderLoop> loop_;
};

}  // namespace dw::render
