#include "core/param_table_parts.h"

namespace dw {

void add_kiosk_params(std::vector<ParamSpec>& t) {
  using C = Config;
  t.push_back(param_bool("kiosk.enabled", bind(&C::kiosk, &KioskConfig::enabled), Apply::Live,
                         "kiosk mode: Esc does not quit, plain keys do nothing, the cursor is "
                         "hidden; only chords, the remote or a signal reach the program"));
  t.push_back(param_bool("kiosk.chords", bind(&C::kiosk, &KioskConfig::chords), Apply::Live,
                         "kiosk mode: Ctrl+Alt+Q quits, Ctrl+Alt+O toggles the overlay, Ctrl+Alt+C "
                         "calibration (false: the keyboard does nothing)"));
}

}  // namespace dw
