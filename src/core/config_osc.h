// OSC control (remote/osc_server.h): where it listens.
#pragma once

#include <string>
#include <vector>

namespace dw {

struct OscConfig {};

}  // namespace dw
