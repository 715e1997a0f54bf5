// The HTTP API and web remote (remote/http_api.h): where it listens and how it is protected.
#pragma once

#include <string>
#include <vector>

namespace dw {

struct RemoteConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";  // any address but loopback requires the token
  int port = 8420;                    // 0: a free port, named in the log and in status
  bool require_token = false;         // also ask for the token on loopback
  std::string token_file = "";        // empty: remote_token beside the config file
  int max_clients = 8;                // connections served at once (the server's threads)
};

}  // namespace dw
