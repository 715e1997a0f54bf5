// Kiosk mode: a piece shown in public, where anyone may reach the keyboard. Plain keys do nothing
// (Esc does not quit, F1/Tab do not open the overlay, the operator's keys are off), the cursor is
// hidden, and only chords (Ctrl+Alt+key), the remote or a signal reach the program.
#pragma once

namespace dw {

struct KioskConfig {
  bool enabled = false;
  // Ctrl+Alt+Q quits, Ctrl+Alt+O opens the overlay, Ctrl+Alt+C calibrates; false: the keyboard
  // does nothing at all (quit through the remote or a signal).
  bool chords = true;
};

}  // namespace dw
