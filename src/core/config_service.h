// Running as a service: systemd watchdog, the log file, resume after a restart.
#pragma once

#include <string>
#include <vector>

namespace dw {

struct ServiceConfig {};

}  // namespace dw
