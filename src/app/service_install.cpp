#include "app/service_install.h"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "app/service_unit_text.h"
#include "core/files.h"

extern char** environ;

namespace dw::service {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUnitName = "dreamwindow.service";
constexpr const char* kEnableHint =
    "systemctl --user daemon-reload && systemctl --user enable --now dreamwindow.service";

std::string unit_dir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return std::string(xdg) + "/systemd/user";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.config/systemd/user";
}

// An executable `name` on PATH, or empty.
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

// Runs `argv` (inheriting stdout and stderr); its exit code, -1 if it could not run.
int run_command(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> exec_command(const Config& config, const RunOptions& run) {
  std::error_code ec;
  std::vector<std::string> command{fs::canonical("/proc/self/exe", ec).string()};
  if (!run.config_path.empty()) {
    command.push_back("--config");
    command.push_back(fs::absolute(run.config_path, ec).string());
  }
  for (const auto& [key, value] : run.overrides) {
    command.push_back("--" + key);
    command.push_back(value);
  }
  if (wants_fullscreen_added(config, run)) command.push_back("--fullscreen");
  return command;
}

// The session's display, by names that outlive a login. XAUTHORITY is left to the session's own
// import: its file is made anew at each login by some display managers (a random name), and a
// unit holding the old one would find no screen after the next reboot.
std::map<std::string, std::string> display_environment() {
  std::map<std::string, std::string> env;
  for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY"})
    if (const char* v = std::getenv(name); v && *v) env[name] = v;
  return env;
}

}  // namespace

std::string systemd_quote(const std::string& word) {
  std::string escaped;
  bool needs_quotes = word.empty();
  for (const char c : word) {
    if (c == '%' || c == '$') escaped += c;  // %% and $$: a literal % and $
    if (c == '"' || c == '\\') escaped += '\\';
    if (c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '\\' || c == ';')
      needs_quotes = true;
    escaped += c;
  }
  return needs_quotes ? "\"" + escaped + "\"" : escaped;
}

std::string render_unit(const std::string& unit_template, const std::vector<std::string>& command,
                        const std::map<std::string, std::string>& display_env) {
  std::istringstream in(unit_template);
  std::string out, line;
  while (std::getline(in, line)) {
    if (line.starts_with("ExecStart=")) {
      line = "ExecStart=";
      for (std::size_t i = 0; i < command.size(); ++i)
        line += (i ? " " : "") + systemd_quote(command[i]);
    } else if (line.starts_with("Environment=DISPLAY=") && !display_env.empty()) {
      line.clear();
      for (const auto& [name, value] : display_env)
        line += (line.empty() ? "" : "\n") +
                fmt::format("Environment={}", systemd_quote(name + "=" + value));
    }
    out += line + "\n";
  }
  return out;
}

bool wants_fullscreen_added(const Config& config, const RunOptions& run) {
  const bool mode_given = std::any_of(run.overrides.begin(), run.overrides.end(),
                                      [](const auto& kv) { return kv.first == "display.mode"; });
  return !mode_given && config.display.mode == DisplayMode::Windowed;
}

int install_service(const Config& config, const RunOptions& run) {
  const std::string dir = unit_dir();
  const std::string path = dir + "/" + kUnitName;
  try {
    fs::create_directories(dir);
    write_file_atomic(path,
                      render_unit(kShippedUnit, exec_command(config, run), display_environment()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dreamwindow: cannot write the service unit %s: %s\n", path.c_str(),
                 e.what());
    return 1;
  }
  std::printf("dreamwindow: wrote the systemd user unit %s\n", path.c_str());
  if (wants_fullscreen_added(config, run))
    std::printf(
        "dreamwindow: the service runs full-screen (--fullscreen); install with "
        "--display.mode windowed to keep a window\n");
  const std::string systemctl = on_path("systemctl");
  if (systemctl.empty()) {
    std::printf(
        "systemctl is not installed here. On a machine with systemd, enable it with:\n  %s\n",
        kEnableHint);
    return 0;
  }
  if (run_command({systemctl, "--user", "daemon-reload"}) != 0 ||
      run_command({systemctl, "--user", "enable", "--now", kUnitName}) != 0) {
    std::printf(
        "systemctl --user cannot be reached from here (no user session bus, e.g. over ssh or in "
        "a container). From the desktop session, run:\n  %s\n",
        kEnableHint);
    return 0;
  }
  std::printf(
      "dreamwindow: enabled and started; it now starts with your desktop session.\n"
      "  status: systemctl --user status dreamwindow\n"
      "  logs:   journalctl --user -u dreamwindow\n");
  return 0;
}

}  // namespace dw::service
