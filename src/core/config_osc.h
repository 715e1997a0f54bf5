// OSC control (remote/osc_server.h): where it listens.
#pragma once

#include <string>
#include <vector>

namespace dw {

struct OscConfig {
  bool enabled = false;               // off unless asked for (installers turn it on)
  std::string address = "127.0.0.1";  // numeric IPv4/IPv6 address to listen on; no authentication
  int port = 9000;                    // UDP port; 0: a free port, named in the log and status
};

}  // namespace dw
