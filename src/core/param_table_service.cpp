#include "core/param_table_parts.h"

namespace dw {

void add_service_params(std::vector<ParamSpec>& t) {
  using C = Config;
  constexpr Apply kLive = Apply::Live;
  constexpr Apply kRestart = Apply::Restart;
  t.push_back(param_float("service.stall_s", bind(&C::service, &ServiceConfig::stall_s), 1.0,
                          3600.0, kLive,
                          "seconds without a presented frame, or without a step of a pipeline "
                          "worker, before the systemd watchdog pings stop (systemd then restarts "
                          "dreamwindow); paused generation and a full buffer do not count"));
  t.push_back(param_string("service.log_file", bind(&C::service, &ServiceConfig::log_file),
                           kRestart,
                           "also write the log to this file, rotated by size (empty: stderr "
                           "only, which systemd sends to the journal)"));
  t.push_back(param_float("service.log_max_mb", bind(&C::service, &ServiceConfig::log_max_mb), 0.01,
                          10000.0, kRestart, "size of the log file before it rotates, MB"));
  t.push_back(param_int("service.log_files", bind(&C::service, &ServiceConfig::log_files), 1, 100,
                        kRestart, "rotated log files kept besides the current one"));
  t.push_back(param_bool("service.resume", bind(&C::service, &ServiceConfig::resume), kRestart,
                         "after a restart, continue the dream from the last keyframes, keyframe "
                         "index and theme (kept in resume/ beside status.json) instead of a seed"));
  t.push_back(param_float("service.resume_every_s",
                          bind(&C::service, &ServiceConfig::resume_every_s), 1.0, 86400.0, kRestart,
                          "at most one save of the resume state per this many seconds"));
  t.push_back(param_float(
      "service.resume_mb_per_day", bind(&C::service, &ServiceConfig::resume_mb_per_day), 0.0, 1.0e6,
      kRestart, "daily write budget of the resume state, MB (0: no cap; SSD wear)"));
}

}  // namespace dw
