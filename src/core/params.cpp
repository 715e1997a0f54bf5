#include "core/params.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "core/config_outputs_toml.h"
#include "core/paths.h"

namespace dw {
namespace {

std::string format_number(double v) {
  // Shortest text that reads back to the same double, always with a decimal point for TOML.
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        // Every other control character as \uXXXX: TOML allows none of them raw in a string,
        // and a file the next start cannot read would stop the installation.
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out + "\"";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Levenshtein distance, for "did you mean" on unknown keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(std::string_view key) {
  std::string best;
  std::size_t best_distance = 4;  // suggest only close matches
  for (const ParamSpec& p : param_table()) {
    const std::size_t d = edit_distance(key, p.key);
    if (d < best_distance) {
      best_distance = d;
      best = p.key;
    }
  }
  std::string msg = fmt::format("unknown key '{}'", key);
  if (!best.empty()) msg += fmt::format(" (did you mean '{}'?)", best);
  return msg;
}

std::optional<std::string> parse_bool(std::string_view text, bool& out) {
  const std::string_view t = trim(text);
  if (t == "true" || t == "1" || t == "yes" || t == "on") {
    out = true;
    return std::nullopt;
  }
  if (t == "false" || t == "0" || t == "no" || t == "off") {
    out = false;
    return std::nullopt;
  }
  return std::string("expected true or false");
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  const std::string_view t = trim(text);
  if (t.empty()) return false;
  const char* end = t.data() + t.size();
  auto [ptr, ec] = std::from_chars(t.data(), end, out);
  return ec == std::errc() && ptr == end;
}

}  // namespace

std::string list_text(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const auto& item : items) quoted.push_back(quote(item));
  return fmt::format("[{}]", fmt::join(quoted, ", "));
}

std::optional<std::string> parse_list_text(std::string_view text, std::vector<std::string>& items) {
  items.clear();
  if (trim(text).starts_with('[')) {
    // A TOML array of strings, as the config file writes it: items may hold commas.
    toml::table doc;
    try {
      doc = toml::parse(fmt::format("list = {}", text));
    } catch (const toml::parse_error& e) {
      return fmt::format("not a list of quoted strings: {}", e.description());
    }
    const toml::array* array = doc["list"].as_array();
    if (array == nullptr) return "not a list of quoted strings";
    for (const toml::node& item : *array) {
      if (!item.is_string()) return "a list item is not a quoted string";
      items.push_back(item.as_string()->get());
    }
    return std::nullopt;
  }
  // Comma-separated, for a command line: --comfy.urls http://a:8188,http://b:8188
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

// ---- ParamSpec ----------------------------------------------------------------------------------

std::string ParamSpec::allowed_text() const {
  switch (type) {
    case ParamType::Bool:
      return "true or false";
    case ParamType::Int:
      return fmt::format("an integer in [{}, {}]", min, max);
    case ParamType::Float:
      return fmt::format("a number in [{}, {}]", min, max);
    case ParamType::String:
      return "a string";
    case ParamType::StringList:
      return "a list of strings";
    case ParamType::Choice:
      return fmt::format("one of {}", fmt::join(choice->names, ", "));
  }
  return "";
}

std::string ParamSpec::value_text(const Config& config) const {
  Config& c = const_cast<Config&>(config);  // accessors are non-const; nothing is modified
  switch (type) {
    case ParamType::Bool:
      return as_bool(c) ? "true" : "false";
    case ParamType::Int:
      return std::to_string(as_int(c));
    case ParamType::Float:
      return format_number(as_float(c));
    case ParamType::String:
      return quote(as_string(c));
    case ParamType::StringList:
      return list_text(as_list(c));
    case ParamType::Choice: {
      const int v = choice->get(config);
      return quote(v >= 0 && v < static_cast<int>(choice->names.size()) ? choice->names[v] : "?");
    }
  }
  return "";
}

std::optional<std::string> ParamSpec::validate(const Config& config) const {
  Config& c = const_cast<Config&>(config);
  switch (type) {
    case ParamType::Int: {
      const int v = as_int(c);
      if (v < min || v > max)
        return fmt::format("{} = {} is out of range: allowed is {}", key, v, allowed_text());
      break;
    }
    case ParamType::Float: {
      const double v = as_float(c);
      if (!std::isfinite(v) || v < min || v > max)
        return fmt::format("{} = {} is out of range: allowed is {}", key, v, allowed_text());
      break;
    }
    default:
      break;
  }
  if (check) return check(config);
  return std::nullopt;
}

std::optional<std::string> ParamSpec::set_from_text(Config& config, std::string_view text) const {
  const auto bad = [&](std::string_view why = {}) {
    return fmt::format("{} = '{}' is not valid: allowed is {}{}", key, text, allowed_text(),
                       why.empty() ? std::string() : fmt::format(" ({})", why));
  };
  switch (type) {
    case ParamType::Bool: {
      bool v = false;
      if (parse_bool(text, v)) return bad();
      as_bool(config) = v;
      break;
    }
    case ParamType::Int: {
      long long v = 0;
      if (!parse_number(text, v)) return bad();
      if (v < min || v > max) return bad("out of range");
      as_int(config) = static_cast<int>(v);
      break;
    }
    case ParamType::Float: {
      double v = 0;
      if (!parse_number(text, v) || !std::isfinite(v)) return bad();
      if (v < min || v > max) return bad("out of range");
      as_float(config) = v;
      break;
    }
    case ParamType::String:
      as_string(config) = std::string(text);
      break;
    case ParamType::StringList: {
      std::vector<std::string> items;
      if (auto err = parse_list_text(text, items)) return bad(*err);
      as_list(config) = std::move(items);
      break;
    }
    case ParamType::Choice: {
      const auto& names = choice->names;
      const auto it = std::find(names.begin(), names.end(), trim(text));
      if (it == names.end()) return bad();
      choice->set(config, static_cast<int>(it - names.begin()));
      break;
    }
  }
  return std::nullopt;
}

ParamSpec param_bool(std::string key, std::function<bool&(Config&)> at, Apply apply,
                     std::string help) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Bool;
  p.apply = apply;
  p.help = std::move(help);
  p.as_bool = std::move(at);
  return p;
}

ParamSpec param_int(std::string key, std::function<int&(Config&)> at, int min, int max, Apply apply,
                    std::string help) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Int;
  p.apply = apply;
  p.help = std::move(help);
  p.min = min;
  p.max = max;
  p.as_int = std::move(at);
  return p;
}

ParamSpec param_float(std::string key, std::function<double&(Config&)> at, double min, double max,
                      Apply apply, std::string help) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::Float;
  p.apply = apply;
  p.help = std::move(help);
  p.min = min;
  p.max = max;
  p.as_float = std::move(at);
  return p;
}

ParamSpec param_string(std::string key, std::function<std::string&(Config&)> at, Apply apply,
                       std::string help) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::String;
  p.apply = apply;
  p.help = std::move(help);
  p.as_string = std::move(at);
  return p;
}

ParamSpec param_list(std::string key, std::function<std::vector<std::string>&(Config&)> at,
                     Apply apply, std::string help) {
  ParamSpec p;
  p.key = std::move(key);
  p.type = ParamType::StringList;
  p.apply = apply;
  p.help = std::move(help);
  p.as_list = std::move(at);
  return p;
}

const ParamSpec* find_param(std::string_view key) {
  for (const ParamSpec& p : param_table())
    if (p.key == key) return &p;
  return nullptr;
}

Config default_config() {
  return Config{};
}

// ---- TOML ---------------------------------------------------------------------------------------

namespace {

std::string toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

std::optional<std::string> set_from_toml(const ParamSpec& p, Config& config, const toml::node& n) {
  const auto wrong_type = [&] {
    std::ostringstream value;
    n.visit([&value](const auto& v) { value << v; });
    return fmt::format("{} = {} has the wrong type ({}): allowed is {}", p.key, value.str(),
                       toml_type_name(n), p.allowed_text());
  };
  switch (p.type) {
    case ParamType::Bool:
      if (!n.is_boolean()) return wrong_type();
      p.as_bool(config) = n.as_boolean()->get();
      break;
    case ParamType::Int: {
      if (!n.is_integer()) return wrong_type();
      const long long v = n.as_integer()->get();
      if (v < p.min || v > p.max)
        return fmt::format("{} = {} is out of range: allowed is {}", p.key, v, p.allowed_text());
      p.as_int(config) = static_cast<int>(v);
      break;
    }
    case ParamType::Float: {
      double v = 0;
      if (n.is_floating_point()) {
        v = n.as_floating_point()->get();
      } else if (n.is_integer()) {
        v = static_cast<double>(n.as_integer()->get());
      } else {
        return wrong_type();
      }
      if (!std::isfinite(v) || v < p.min || v > p.max)
        return fmt::format("{} = {} is out of range: allowed is {}", p.key, v, p.allowed_text());
      p.as_float(config) = v;
      break;
    }
    case ParamType::String:
      if (!n.is_string()) return wrong_type();
      p.as_string(config) = n.as_string()->get();
      break;
    case ParamType::StringList: {
      const toml::array* arr = n.as_array();
      if (!arr) return wrong_type();
      std::vector<std::string> items;
      for (const toml::node& item : *arr) {
        if (!item.is_string()) return wrong_type();
        items.push_back(item.as_string()->get());
      }
      p.as_list(config) = std::move(items);
      break;
    }
    case ParamType::Choice: {
      if (!n.is_string()) return wrong_type();
      return p.set_from_text(config, n.as_string()->get());
    }
  }
  return std::nullopt;
}

std::optional<std::string> walk_table(const toml::table& table, const std::string& prefix,
                                      Config& config, const std::string& base_dir) {
  for (const auto& [name, node] : table) {
    const std::string key =
        prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (key == "output") {  // [[output]] tables (core/config_outputs_toml.h)
      if (auto err = parse_output_tables(node, config.outputs, base_dir)) return err;
      continue;
    }
    const ParamSpec* p = find_param(key);
    if (p == nullptr && node.is_table()) {
      if (auto err = walk_table(*node.as_table(), key, config, base_dir)) return err;
      continue;
    }
    if (p == nullptr) {
      return fmt::format("{} (line {})", unknown_key_message(key), node.source().begin.line);
    }
    if (auto err = set_from_toml(*p, config, node))
      return fmt::format("{} (line {})", *err, node.source().begin.line);
  }
  return std::nullopt;
}

}  // namespace

std::optional<ConfigError> load_config_file(const std::string& path, Config& config) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return ConfigError{
        fmt::format("config file '{}' cannot be read: {}", path,
                    std::filesystem::exists(path, ec) ? "not a regular file" : "no such file")};
  }
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return ConfigError{fmt::format("config file '{}' is not valid TOML: {} (line {}, column {})",
                                   path, e.description(), e.source().begin.line,
                                   e.source().begin.column)};
  } catch (const std::exception& e) {
    return ConfigError{fmt::format("config file '{}' cannot be read: {}", path, e.what())};
  }
  Config updated = config;
  if (auto err = walk_table(root, "", updated, std::filesystem::path(path).parent_path().string()))
    return ConfigError{fmt::format("config file '{}': {}", path, *err)};
  config = std::move(updated);
  return std::nullopt;
}

std::optional<ConfigError> apply_override(Config& config, std::string_view key,
                                          std::string_view value) {
  const ParamSpec* p = find_param(key);
  if (p == nullptr)
    return ConfigError{fmt::format("option --{}: {}", key, unknown_key_message(key))};
  if (auto err = p->set_from_text(config, value))
    return ConfigError{fmt::format("option --{}", *err)};
  return std::nullopt;
}

std::optional<ConfigError> validate_config(const Config& config) {
  for (const ParamSpec& p : param_table())
    if (auto err = p.validate(config)) return ConfigError{*err};
  if (auto err = validate_outputs(config)) return ConfigError{*err};
  return std::nullopt;
}

std::optional<ConfigError> check_paths(const Config& config) {
  namespace fs = std::filesystem;
  for (const ParamSpec& p : param_table()) {
    if (p.path == PathRule::None || p.type != ParamType::String) continue;
    const std::string& value = p.as_string(const_cast<Config&>(config));
    if (value.empty()) continue;
    if (p.path == PathRule::FileOrName && value.find_first_of("/.") == std::string::npos) continue;
    if (p.path == PathRule::FileOrNone && value == "none") continue;
    std::error_code ec;
    // A relative path not found from here may name a shipped file (assets/...), found as the
    // program finds its data (and as its reader will).
    const fs::file_status st = fs::status(resolve_input_path(value), ec);
    const bool want_dir = p.path == PathRule::DirectoryOrAbsent;
    std::string problem;
    if (!fs::exists(st) && want_dir)
      continue;  // not mounted yet, perhaps: the reader starts without it and says so
    if (!fs::exists(st))
      problem = "no such file";
    else if (want_dir && !fs::is_directory(st))
      problem = "not a directory";
    else if (!want_dir && fs::is_directory(st))
      problem = "a directory, not a file";
    if (!problem.empty())
      return ConfigError{fmt::format("{} = {}: {} ({})", p.key, quote(value), problem, p.help)};
  }
  if (auto err = check_output_masks(config)) return ConfigError{*err};
  return std::nullopt;
}

std::string config_to_toml(const Config& config,
                           const std::function<bool(const ParamSpec&)>& include) {
  // Group rows by section, keeping the table's order.
  std::vector<std::string> sections;
  std::map<std::string, std::vector<const ParamSpec*>> rows;
  for (const ParamSpec& p : param_table()) {
    if (include && !include(p)) continue;
    const std::size_t dot = p.key.rfind('.');
    const std::string section = dot == std::string::npos ? "" : p.key.substr(0, dot);
    if (!rows.contains(section)) sections.push_back(section);
    rows[section].push_back(&p);
  }
  // Top-level keys must come before the first [section] in TOML.
  std::stable_partition(sections.begin(), sections.end(),
                        [](const std::string& s) { return s.empty(); });
  std::string out = "# dreamwindow effective configuration\n";
  for (const std::string& section : sections) {
    out += section.empty() ? "\n" : fmt::format("\n[{}]\n", section);
    for (const ParamSpec* p : rows[section]) {
      const std::string name = section.empty() ? p->key : p->key.substr(section.size() + 1);
      // What is allowed in brackets; when an edit applies is said apart from it, so it never
      // reads as one of the choices.
      out +=
          fmt::format("# {} [{}] (applies {})\n{} = {}\n", p->help, p->allowed_text(),
                      p->apply == Apply::Live ? "live" : "at restart", name, p->value_text(config));
    }
  }
  return out + outputs_to_toml(config.outputs);  // always: a save must not drop the outputs
}

std::string default_config_path() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return std::string(xdg) + "/dreamwindow/config.toml";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.config/dreamwindow/config.toml";
  return "dreamwindow.toml";
}

}  // namespace dw
