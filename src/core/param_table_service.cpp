#include "core/param_table_parts.h"

namespace dw {

void add_service_params(std::vector<ParamSpec>& t) {
  using C = Config;
  constexpr Apply kLive = Apply::Live;
  t.push_back(param_float("service.stall_s", bind(&C::service, &ServiceConfig::stall_s), 1.0,
                          3600.0, kLive,
                          "seconds without a presented frame, or without a step of a pipeline "
                          "worker, before the systemd watchdog pings stop (systemd then restarts "
                          "dreamwindow); paused generation and a full buffer do not count"));
}

}  // namespace dw
