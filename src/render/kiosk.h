// Kiosk mode's key rules (core/config_kiosk.h), apart from SDL's event loop so they can be tested
// alone. The render loop asks `plain_keys_enabled` before any plain key (Esc, F1, Tab, F11 and
// the operator's keys for pause, freeze, next theme): that one predicate turns them all off in
// kiosk mode. Chords (Ctrl+Alt+key) work in and out of kiosk mode unless kiosk.chords is off.
#pragma once

#include <SDL.h>

#include "core/config_kiosk.h"

namespace dw::render {

enum class Chord { None, Quit, Overlay, Calibrate };

// Plain keys do nothing in kiosk mode.
inline bool plain_keys_enabled(const KioskConfig& kiosk) {
  return !kiosk.enabled;
}

// Whether a request to close the window (the window manager's close button, Alt+F4) quits. Not in
// kiosk mode: a visitor at a public keyboard must not end the show. Signals and the chord still do.
inline bool window_close_quits(const KioskConfig& kiosk) {
  return !kiosk.enabled;
}

// The chord a key press makes: Ctrl+Alt+Q quits, Ctrl+Alt+O toggles the overlay, Ctrl+Alt+C
// toggles calibration; None for anything else, and for every key when chords are off in kiosk
// mode. Either Ctrl and either Alt count; Shift and the lock keys do not matter.
Chord chord_for(const SDL_Keysym& key, const KioskConfig& kiosk);

// Whether the mouse cursor should show: in kiosk mode and full-screen it is hidden, except while
// the overlay or calibration needs the mouse.
bool cursor_wanted(const KioskConfig& kiosk, bool fullscreen, bool overlay_visible,
                   bool calibrating);

}  // namespace dw::render
