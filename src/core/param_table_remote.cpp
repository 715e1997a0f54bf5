// remote.*: the HTTP API and web page (src/remote/http_api.h).
#include "core/param_table_parts.h"

namespace dw {

void add_remote_params(std::vector<ParamSpec>& t) {
  using C = Config;
  using R = RemoteConfig;
  constexpr Apply kRestart = Apply::Restart;
  t.push_back(param_bool("remote.enabled", bind(&C::remote, &R::enabled), kRestart,
                         "serve the web remote and the HTTP API (/api, /metrics)"));
  t.push_back(param_string("remote.address", bind(&C::remote, &R::address), kRestart,
                           "address the remote listens on (127.0.0.1: this machine only; any "
                           "other address requires the token)"));
  t.push_back(param_int("remote.port", bind(&C::remote, &R::port), 0, 65535, kRestart,
                        "TCP port of the remote (0: a free port, shown in the log and status)"));
  t.push_back(param_bool("remote.require_token", bind(&C::remote, &R::require_token), kRestart,
                         "ask for the token on loopback too (always asked on other addresses)"));
  t.push_back(param_string("remote.token_file", bind(&C::remote, &R::token_file), kRestart,
                           "file holding the remote's token, made at first start with mode 0600 "
                           "(empty: remote_token beside the config file)"));
  t.push_back(param_int("remote.max_clients", bind(&C::remote, &R::max_clients), 2, 64, kRestart,
                        "connections the remote serves at once (live status streams take at "
                        "most half)"));
}

}  // namespace dw
