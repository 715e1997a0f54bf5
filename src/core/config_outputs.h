// The canvas and its outputs: projector mapping, blending, calibration and kiosk mode.
#pragma once

#include <string>
#include <vector>

namespace dw {

struct OutputsConfig {};

}  // namespace dw
