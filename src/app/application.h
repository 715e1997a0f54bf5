// Wiring: builds the parts the configuration asks for, runs the render loop on the main thread,
// and shuts everything down in order. Returns the process exit code.
#pragma once

#include "app/cli.h"
#include "core/config.h"

namespace dw {

int run_application(const Config& config, const RunOptions& run);

}  // namespace dw
