// Running as a service: systemd watchdog, the log file, resume after a restart.
#pragma once

#include <string>
#include <vector>

namespace dw {

struct ServiceConfig {
  // The systemd watchdog stops its pings when no frame was presented, or a pipeline worker made
  // no step, for this long (generation paused or the buffer full excepted): systemd then
  // restarts the program. Raise it for a VAE that takes longer than this for one batch.
  double stall_s = 60.0;
  std::string log_file = "";  // empty: no log file (stderr, i.e. the journal, only)
  double log_max_mb = 10.0;   // size of one log file before it rotates
  int log_files = 3;          // rotated files kept beside the current one
  // Resume after a restart from the last keyframes and theme (pipeline/resume.h).
  bool resume = true;
  double resume_every_s = 30.0;     // at most one resume save per this many seconds
  double resume_mb_per_day = 1024;  // and at most this much written per day (0: no cap)
};

}  // namespace dw
