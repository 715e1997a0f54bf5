#include "render/kiosk.h"

namespace dw::render {

Chord chord_for(const SDL_Keysym& key, const KioskConfig& kiosk) {
  if (kiosk.enabled && !kiosk.chords) return Chord::None;
  if ((key.mod & KMOD_CTRL) == 0 || (key.mod & KMOD_ALT) == 0) return Chord::None;
  switch (key.sym) {
    case SDLK_q:
      return Chord::Quit;
    case SDLK_o:
      return Chord::Overlay;
    case SDLK_c:
      return Chord::Calibrate;
    default:
      return Chord::None;
  }
}

bool cursor_wanted(const KioskConfig& kiosk, bool fullscreen, bool overlay_visible,
                   bool calibrating) {
  if (overlay_visible || calibrating) return true;
  return !kiosk.enabled && !fullscreen;
}

}  // namespace dw::render
