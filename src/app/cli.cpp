#include "app/cli.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>

#include "core/params.h"

#ifndef DW_VERSION
#error "DW_VERSION comes from CMake's project version (src/app/CMakeLists.txt)"
#endif

namespace dw {
namespace {

constexpr int kConfigErrorExit = 2;

constexpr const char* kKeysFooter =
    "Keys while running:\n"
    "  F1 or Tab   show or hide the overlay (statistics and every parameter; \"save\" writes\n"
    "              the edits to the config file)\n"
    "  F11         toggle full-screen\n"
    "  Esc         quit (as does closing the window, Ctrl+C or SIGTERM)";

std::string type_hint(const ParamSpec& p) {
  switch (p.type) {
    case ParamType::Bool:
      return "BOOL";
    case ParamType::Int:
      return "INT";
    case ParamType::Float:
      return "FLOAT";
    case ParamType::String:
      return p.path == PathRule::None ? "TEXT" : "PATH";
    case ParamType::StringList:
      return "LIST";
    case ParamType::Choice:
      return "CHOICE";
  }
  return "";
}

// The program's own actions (everything that is not a table row).
void add_run_options(CLI::App& app, RunOptions& run, std::string& config_path,
                     std::vector<std::string>& edits) {
  app.add_option("--config", config_path,
                 fmt::format("TOML config file (default: {} if it exists)", default_config_path()));
  app.add_flag("--print-config", run.print_config, "print the effective config as TOML and exit");
  app.add_flag("--list-displays", run.list_displays, "list the displays and exit");
  app.add_flag("--install-service", run.install_service,
               "install the systemd user unit (this binary, the config file and the --<key> "
               "settings given here), enable and start it, and exit");
  app.add_flag("--headless", run.headless, "render offscreen (servers, tests, Xvfb)");
  app.add_option("--frames", run.frames, "stop after this many displayed frames")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--screenshot", run.screenshot, "write a PNG of the final frame here");
  app.add_option("--calibrate", run.calibrate,
                 "start in calibration mode showing PATTERN (C or Ctrl+Alt+C leaves it)")
      ->type_name("PATTERN")
      ->check(CLI::IsMember({"grid", "crosshair", "bars", "ramps", "numbers"}));
  app.add_option("--screenshot-overlay", run.screenshot_overlay,
                 "write a PNG of the final frame with the overlay drawn over it (shows it)");
  app.add_option("--overlay-edit", edits,
                 "test hook: KEY=VALUE edited through the overlay's parameter panel at start "
                 "(repeatable)")
      ->type_name("KEY=VALUE")
      ->group("Testing");
  app.add_flag("--overlay-save", run.overlay_save,
               "test hook: press the overlay's \"save\" after the --overlay-edit edits")
      ->group("Testing");
}

// One option per table row; values are kept as text and applied after the config file, in
// command-line order, so the table's own parser produces every error message.
void add_table_options(CLI::App& app, std::vector<std::pair<std::string, std::string>>& overrides) {
  const Config defaults = default_config();
  for (const ParamSpec& p : param_table()) {
    auto* opt = app.add_option_function<std::string>(
        "--" + p.key,
        [&overrides, key = p.key](const std::string& v) { overrides.emplace_back(key, v); },
        fmt::format("{} [{}; default {}; applies {}]", p.help, p.allowed_text(),
                    p.value_text(defaults), p.apply == Apply::Live ? "live" : "at restart"));
    opt->type_name(type_hint(p));
    const std::string section = p.key.substr(0, p.key.find('.'));
    opt->group(section == p.key ? "General" : section);
  }
}

// --overlay-edit values are KEY=VALUE with a table key and a value the table accepts.
std::optional<std::string> check_overlay_edits(const RunOptions& run) {
  for (const auto& [key, value] : run.overlay_edits) {
    Config scratch = default_config();
    if (auto err = apply_override(scratch, key, value))
      return fmt::format("--overlay-edit {}={}: {}", key, value, err->message);
  }
  return std::nullopt;
}

// Splits the "KEY=VALUE" items of --overlay-edit.
bool split_edits(const std::vector<std::string>& edits, RunOptions& run, std::string& error) {
  for (const std::string& edit : edits) {
    const std::size_t eq = edit.find('=');
    if (eq == std::string::npos) {
      error = fmt::format("--overlay-edit '{}': expected KEY=VALUE", edit);
      return false;
    }
    run.overlay_edits.emplace_back(edit.substr(0, eq), edit.substr(eq + 1));
  }
  return true;
}

CommandLine fail(CommandLine out, const std::string& message) {
  out.exit_code = kConfigErrorExit;
  out.message = "dreamwindow: " + message;
  return out;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine out;
  out.config = default_config();

  CLI::App app{"dreamwindow: an endless, smoothly morphing stream of AI images", "dreamwindow"};
  app.get_formatter()->column_width(44);
  app.set_version_flag("--version", "dreamwindow " DW_VERSION);
  app.footer(kKeysFooter);
  std::string config_path;
  std::vector<std::string> edits;
  add_run_options(app, out.run, config_path, edits);
  bool fullscreen = false, windowed = false;  // shorthands for the most common display settings
  app.add_flag("--fullscreen", fullscreen, "same as --display.mode borderless");
  app.add_flag("--windowed", windowed, "same as --display.mode windowed");
  std::vector<std::pair<std::string, std::string>> overrides;
  add_table_options(app, overrides);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.exit_code = 0;
    out.message = app.help();
    return out;
  } catch (const CLI::CallForVersion&) {
    out.exit_code = 0;
    out.message = app.version();
    return out;
  } catch (const CLI::ParseError& e) {
    return fail(std::move(out), fmt::format("{}\nRun with --help for the options.", e.what()));
  }
  std::string error;
  if (!split_edits(edits, out.run, error)) return fail(std::move(out), error);
  if (auto err = check_overlay_edits(out.run)) return fail(std::move(out), *err);

  const bool explicit_config = !config_path.empty();
  if (!explicit_config) {
    std::error_code ec;
    if (std::filesystem::exists(default_config_path(), ec)) config_path = default_config_path();
  }
  if (!config_path.empty()) {
    if (auto err = load_config_file(config_path, out.config))
      return fail(std::move(out), err->message);
    out.run.config_path = config_path;
  }
  out.run.save_path = config_path.empty() ? default_config_path() : config_path;
  if (fullscreen) out.run.overrides.emplace_back("display.mode", "borderless");
  if (windowed) out.run.overrides.emplace_back("display.mode", "windowed");
  for (const auto& [key, value] : overrides) out.run.overrides.emplace_back(key, value);
  for (const auto& [key, value] : out.run.overrides)
    if (auto err = apply_override(out.config, key, value))
      return fail(std::move(out), err->message);
  if (auto err = validate_config(out.config)) return fail(std::move(out), err->message);
  if (auto err = check_paths(out.config)) return fail(std::move(out), err->message);
  if (out.run.print_config) {
    out.exit_code = 0;
    out.message = config_to_toml(out.config);
  }
  return out;
}

}  // namespace dw
