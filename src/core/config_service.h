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
};

}  // namespace dw
