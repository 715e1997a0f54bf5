// osc.*: OSC control over UDP (src/remote/osc_server.h).
#include "core/param_table_parts.h"

namespace dw {

void add_osc_params(std::vector<ParamSpec>& t) {
  using C = Config;
  using O = OscConfig;
  constexpr Apply kRestart = Apply::Restart;
  t.push_back(
      param_bool("osc.enabled", bind(&C::osc, &O::enabled), kRestart,
                 "listen for OSC messages (/dreamwindow/param/..., /dreamwindow/action/...)"));
  t.push_back(param_string("osc.address", bind(&C::osc, &O::address), kRestart,
                           "numeric address OSC listens on (127.0.0.1: this machine only; OSC has "
                           "no authentication, so any other address lets the network control it)"));
  t.push_back(param_int("osc.port", bind(&C::osc, &O::port), 0, 65535, kRestart,
                        "UDP port for OSC (0: a free port, shown in the log and status)"));
}

}  // namespace dw
