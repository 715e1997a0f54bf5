// Wiring: builds the parts the configuration asks for, runs the render loop on the main thread,
// and shuts everything down in order. Returns the process exit code.
#pragma once

#include "app/cli.h"
#include "core/config.h"

namespace dw {

// SIGINT and SIGTERM ask the render loop to end; SIGPIPE is ignored (a stderr whose reader went
// away fails its writes instead of ending the show). First thing in main: the log writers'
// threads start with the logger and may write before anything else runs.
void install_signal_handlers();

int run_application(const Config& config, const RunOptions& run);

}  // namespace dw
