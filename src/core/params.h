// The declarative parameter table: one row per tunable binds a config key (and its CLI flag
// --<key>) to a field of dw::Config with its default, range, help text and whether it applies live.
// The same rows drive the TOML config file, the command line, --help, --print-config, validation
// and the overlay's widgets. A parameter is added in two places: its field in dw::Config (whose
// initialiser is the default) and its row in param_table.cpp; nothing else is written by hand.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config.h"

namespace dw {

enum class ParamType { Bool, Int, Float, String, StringList, Choice };
enum class Apply { Live, Restart };
// Rows that name an input the program reads: when set (non-empty) it must exist, or the CLI
// exits 2. FileOrName: a path when it contains '/' or '.', else a name looked up elsewhere (not
// checked). FileOrNone: a path, or the word "none" (vae.decoder: crossfades instead of a VAE).
// DirectoryOrAbsent: a folder, or nothing there yet (source.folder on a disk or share that mounts
// late: the program starts without it and says so); a file there is refused, as waiting cannot
// mend it.
enum class PathRule { None, File, DirectoryOrAbsent, FileOrName, FileOrNone };

// A choice parameter's allowed names, stored in the config as an enum's underlying int.
struct ChoiceBinding {
  std::vector<std::string> names;
  std::function<int(const Config&)> get;
  std::function<void(Config&, int)> set;
};

struct ParamSpec {
  std::string key;  // "display.gamma": TOML table "display", key "gamma"; CLI --display.gamma
  ParamType type;
  Apply apply;
  std::string help;
  double min = 0, max = 0;  // numeric range, inclusive (Int and Float)
  // Accessors to the bound field; exactly the one matching `type` is set.
  std::function<bool&(Config&)> as_bool;
  std::function<int&(Config&)> as_int;
  std::function<double&(Config&)> as_float;
  std::function<std::string&(Config&)> as_string;
  std::function<std::vector<std::string>&(Config&)> as_list;
  std::optional<ChoiceBinding> choice;
  PathRule path = PathRule::None;  // String rows only
  // A further check of the value's syntax (a schedule entry): an error text naming the key, the
  // entry and what is expected, or nothing. Run by validate(), so everywhere a value comes in.
  std::function<std::optional<std::string>(const Config&)> check;

  // The current value as TOML would write it ("cover", 1.5, true, ["a", "b"]).
  std::string value_text(const Config& config) const;
  // Parses a CLI value; returns an error text naming the key, the value and what is allowed.
  std::optional<std::string> set_from_text(Config& config, std::string_view text) const;
  // Range / choice check of the current value; an error text or nothing.
  std::optional<std::string> validate(const Config& config) const;
  // "float in [0.2, 5]", "one of cover, contain, stretch" ...
  std::string allowed_text() const;
};

// Builders for table rows. `Section` is the config sub-struct, `field` a member of it.
template <class Section, class T>
auto bind(Section Config::*section, T Section::*field) {
  return [section, field](Config& c) -> T& { return (c.*section).*field; };
}

ParamSpec param_bool(std::string key, std::function<bool&(Config&)> at, Apply apply,
                     std::string help);
ParamSpec param_int(std::string key, std::function<int&(Config&)> at, int min, int max, Apply apply,
                    std::string help);
ParamSpec param_float(std::string key, std::function<double&(Config&)> at, double min, double max,
                      Apply apply, std::string help);
ParamSpec param_string(std::string key, std::function<std::string&(Config&)> at, Apply apply,
                       std::string help);
ParamSpec param_list(std::string key, std::function<std::vector<std::string>&(Config&)> at,
                     Apply apply, std::string help);

template <class Enum>
ParamSpec param_choice(std::string key, std::function<Enum&(Config&)> at,
                       std::vector<std::string> names, Apply apply, std::string help) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Choice;
  p.apply = apply;
  p.help = std::move(help);
  p.choice =
      ChoiceBinding{std::move(names),
                    [at](const Config& c) { return static_cast<int>(at(const_cast<Config&>(c))); },
                    [at](Config& c, int v) { at(c) = static_cast<Enum>(v); }};
  return p;
}

// A list's text, as the config file writes it and value_text gives it: ["a", "b"].
std::string list_text(const std::vector<std::string>& items);
// A list from text: that form (TOML's, whose items may hold commas, as the overlay and the API send
// it), or items separated by commas (a command line's --comfy.urls http://a:8188,http://b:8188).
// An error saying what is wrong, or nothing.
std::optional<std::string> parse_list_text(std::string_view text, std::vector<std::string>& items);

// The table itself (src/core/param_table.cpp) and look-up by key.
std::span<const ParamSpec> param_table();
const ParamSpec* find_param(std::string_view key);

// The config with every field at the table's default.
Config default_config();

// Result of loading/applying configuration: the first error stops and is reported whole.
struct ConfigError {
  std::string message;  // names the key, the value and what is allowed, and the file if any
};

// Reads a TOML file over `config`. Unknown keys, wrong types, out-of-range values and unreadable
// or malformed files are errors.
std::optional<ConfigError> load_config_file(const std::string& path, Config& config);
// Applies "--key value" / "--key=value" pairs (already split by the CLI parser).
std::optional<ConfigError> apply_override(Config& config, std::string_view key,
                                          std::string_view value);
// Checks every value against its range.
std::optional<ConfigError> validate_config(const Config& config);
// Checks that every path a row marks (PathRule) exists and is of the right kind.
std::optional<ConfigError> check_paths(const Config& config);
// The effective configuration as a TOML document, grouped by section, with help as comments;
// `include` picks the rows written (all by default).
std::string config_to_toml(const Config& config,
                           const std::function<bool(const ParamSpec&)>& include = {});
// $XDG_CONFIG_HOME/dreamwindow/config.toml (or ~/.config/...).
std::string default_config_path();

}  // namespace dw
