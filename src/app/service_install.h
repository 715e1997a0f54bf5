// `dreamwindow --install-service`: writes the systemd user unit (dist/dreamwindow.service, built
// into the binary) to $XDG_CONFIG_HOME/systemd/user/dreamwindow.service (default
// ~/.config/systemd/user) with ExecStart= naming this binary's absolute path, the config file and
// the command line's --<key> settings (and --fullscreen, see wants_fullscreen_added), and the
// installer's DISPLAY and WAYLAND_DISPLAY; then runs
// `systemctl --user daemon-reload` and `systemctl --user enable --now dreamwindow.service` when
// systemctl is there and reachable, else prints the one-liner that does it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "app/cli.h"

namespace dw::service {

// The unit text from the shipped template: its ExecStart= line becomes `command` (each word
// quoted for systemd where needed, % and $ escaped), its Environment=DISPLAY= line becomes one
// Environment= line per display variable in `display_env` (kept as it is when that is empty).
std::string render_unit(const std::string& unit_template, const std::vector<std::string>& command,
                        const std::map<std::string, std::string>& display_env);

// One word of an ExecStart= line, quoted for systemd.
std::string systemd_quote(const std::string& word);

// Whether the unit's command gets --fullscreen: an installation shows full-screen unless the
// install command line names display.mode (the config file's default mode is a window).
bool wants_fullscreen_added(const Config& config, const RunOptions& run);

// The whole of --install-service with the effective `config` (file and command line); returns
// the exit code (0 also when systemctl --user cannot be reached: the unit is written and the
// message says what to run).
int install_service(const Config& config, const RunOptions& run);

}  // namespace dw::service
