// Kiosk mode's key rules without SDL's event loop: which presses are chords, when plain keys work,
// when the cursor shows.
#include "render/kiosk.h"

#include <gtest/gtest.h>

namespace dw::render {
namespace {

SDL_Keysym key(SDL_Keycode sym, Uint16 mod = KMOD_NONE) {
  SDL_Keysym k{};
  k.sym = sym;
  k.mod = mod;
  return k;
}

KioskConfig kiosk(bool enabled, bool chords = true) {
  KioskConfig k;
  k.enabled = enabled;
  k.chords = chords;
  return k;
}

TEST(Kiosk, ChordsNeedCtrlAndAltOnEitherSide) {
  const KioskConfig on = kiosk(true);
  EXPECT_EQ(chord_for(key(SDLK_q, KMOD_LCTRL | KMOD_LALT), on), Chord::Quit);
  EXPECT_EQ(chord_for(key(SDLK_q, KMOD_RCTRL | KMOD_RALT), on), Chord::Quit);
  EXPECT_EQ(chord_for(key(SDLK_o, KMOD_LCTRL | KMOD_RALT | KMOD_NUM), on), Chord::Overlay);
  EXPECT_EQ(chord_for(key(SDLK_c, KMOD_CTRL | KMOD_ALT | KMOD_SHIFT), on), Chord::Calibrate);
  EXPECT_EQ(chord_for(key(SDLK_q, KMOD_LCTRL), on), Chord::None) << "Ctrl alone is no chord";
  EXPECT_EQ(chord_for(key(SDLK_q, KMOD_LALT), on), Chord::None) << "Alt alone is no chord";
  EXPECT_EQ(chord_for(key(SDLK_q), on), Chord::None);
  EXPECT_EQ(chord_for(key(SDLK_ESCAPE, KMOD_CTRL | KMOD_ALT), on), Chord::None);
}

TEST(Kiosk, ChordsCanBeTurnedOffInKioskModeOnly) {
  EXPECT_EQ(chord_for(key(SDLK_q, KMOD_CTRL | KMOD_ALT), kiosk(true, false)), Chord::None);
  EXPECT_EQ(chord_for(key(SDLK_q, KMOD_CTRL | KMOD_ALT), kiosk(false, false)), Chord::Quit)
      << "outside kiosk mode the chords work as the plain keys do";
}

TEST(Kiosk, PlainKeysAreOffInKioskMode) {
  EXPECT_FALSE(plain_keys_enabled(kiosk(true)));
  EXPECT_TRUE(plain_keys_enabled(kiosk(false)));
}

TEST(Kiosk, CursorHiddenInKioskAndFullScreenUnlessTheMouseIsNeeded) {
  EXPECT_FALSE(cursor_wanted(kiosk(true), false, false, false));
  EXPECT_FALSE(cursor_wanted(kiosk(false), true, false, false));
  EXPECT_TRUE(cursor_wanted(kiosk(false), false, false, false));
  EXPECT_TRUE(cursor_wanted(kiosk(true), true, true, false))
      << "the overlay is used with the mouse";
  EXPECT_TRUE(cursor_wanted(kiosk(true), true, false, true)) << "calibration drags with the mouse";
}

}  // namespace
}  // namespace dw::render
