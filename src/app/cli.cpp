#include "app/cli.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>

#include "core/params.h"

namespace dw {
namespace {

constexpr int kConfigErrorExit = 2;

std::string type_hint(const ParamSpec& p) {
  switch (p.type) {
    case ParamType::Bool:
      return "BOOL";
    case ParamType::Int:
      return "INT";
    case ParamType::Float:
      return "FLOAT";
    case ParamType::String:
      return "TEXT";
    case ParamType::StringList:
      return "LIST";
    case ParamType::Choice:
      return "CHOICE";
  }
  return "";
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine out;
  out.config = default_config();

  CLI::App app{"dreamwindow: an endless, smoothly morphing stream of AI images", "dreamwindow"};
  app.get_formatter()->column_width(44);
  std::string config_path;
  app.add_option("--config", config_path,
                 fmt::format("TOML config file (default: {} if it exists)", default_config_path()));
  app.add_flag("--print-config", out.run.print_config,
               "print the effective config as TOML and exit");
  app.add_flag("--list-displays", out.run.list_displays, "list the displays and exit");
  app.add_flag("--headless", out.run.headless, "render offscreen (servers, tests, Xvfb)");
  app.add_option("--frames", out.run.frames, "stop after this many displayed frames")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--screenshot", out.run.screenshot, "write a PNG of the final frame here");
  // Shorthands for the most common display settings.
  bool fullscreen = false, windowed = false;
  app.add_flag("--fullscreen", fullscreen, "same as --display.mode borderless");
  app.add_flag("--windowed", windowed, "same as --display.mode windowed");

  // One option per table row; values are kept as text and applied after the config file, in
  // command-line order, so the table's own parser produces every error message.
  std::vector<std::pair<std::string, std::string>> overrides;
  std::map<std::string, std::string> values;
  for (const ParamSpec& p : param_table()) {
    const Config defaults = default_config();
    auto* opt = app.add_option_function<std::string>(
        "--" + p.key,
        [&overrides, key = p.key](const std::string& v) { overrides.emplace_back(key, v); },
        fmt::format("{} [{}; default {}{}]", p.help, p.allowed_text(), p.value_text(defaults),
                    p.apply == Apply::Live ? "; live" : ""));
    opt->type_name(type_hint(p));
    opt->group(p.key.substr(0, p.key.find('.')) == p.key ? "General"
                                                         : p.key.substr(0, p.key.find('.')));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.exit_code = 0;
    out.message = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = kConfigErrorExit;
    out.message = fmt::format("dreamwindow: {}\nRun with --help for the options.", e.what());
    return out;
  }

  const bool explicit_config = !config_path.empty();
  if (!explicit_config) {
    std::error_code ec;
    if (std::filesystem::exists(default_config_path(), ec)) config_path = default_config_path();
  }
  if (!config_path.empty()) {
    if (auto err = load_config_file(config_path, out.config)) {
      out.exit_code = kConfigErrorExit;
      out.message = "dreamwindow: " + err->message;
      return out;
    }
    out.run.config_path = config_path;
  }
  if (fullscreen) out.config.display.mode = DisplayMode::Borderless;
  if (windowed) out.config.display.mode = DisplayMode::Windowed;
  for (const auto& [key, value] : overrides) {
    if (auto err = apply_override(out.config, key, value)) {
      out.exit_code = kConfigErrorExit;
      out.message = "dreamwindow: " + err->message;
      return out;
    }
  }
  if (auto err = validate_config(out.config)) {
    out.exit_code = kConfigErrorExit;
    out.message = "dreamwindow: " + err->message;
    return out;
  }
  if (out.run.print_config) {
    out.exit_code = 0;
    out.message = config_to_toml(out.config);
  }
  return out;
}

}  // namespace dw
