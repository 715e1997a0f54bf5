// The command line: program actions (--headless, --frames ...) plus one --<key> flag for every row
// of the parameter table, layered over the config file. Errors never throw out of here: they come
// back as a message and exit code 2.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"

namespace dw {

struct RunOptions {
  bool headless = false;
  long long frames = 0;            // 0: run until closed
  std::string screenshot;          // write a PNG of the last presented frame here
  std::string screenshot_overlay;  // the same with the overlay drawn over it (shown for it)
  std::string calibrate;           // start in calibration mode with this pattern ("" : off)
  bool list_displays = false;
  bool print_config = false;
  bool install_service = false;  // write and enable the systemd user unit, then exit
  std::string config_path;       // the file that was read, if any
  // The overlay's "save" target: config_path when one was read, else the default path.
  std::string save_path;
  // The command line's --<key> overrides in order (--fullscreen and --windowed as display.mode):
  // a config reload (SIGHUP, the remote) applies them again over the file.
  std::vector<std::pair<std::string, std::string>> overrides;
  // Test hooks: edits made through the overlay's parameter panel (key, value as on the command
  // line) once it is up, then optionally its "save".
  std::vector<std::pair<std::string, std::string>> overlay_edits;
  bool overlay_save = false;
};

struct CommandLine {
  Config config;
  RunOptions run;
  int exit_code = -1;   // >= 0: exit now with this code (after --help, or an error)
  std::string message;  // what to print (help text on stdout, errors on stderr)
};

// Parses argv: reads --config PATH (or the default path if it exists), then applies every
// --<key> override, then validates ranges and that every input path a row marks exists. The
// default config file is optional; an explicit one is not. --help and --version exit 0.
CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace dw
