// GET /api/params: the parameter table's rows as JSON, values typed (numbers, booleans, lists).
#include <nlohmann/json.hpp>

#include "core/params.h"
#include "remote/http_api.h"

namespace dw::remote {
namespace {

using nlohmann::json;

std::string_view type_name(ParamType t) {
  switch (t) {
    case ParamType::Bool:
      return "bool";
    case ParamType::Int:
      return "int";
    case ParamType::Float:
      return "float";
    case ParamType::String:
      return "string";
    case ParamType::StringList:
      return "list";
    case ParamType::Choice:
      return "choice";
  }
  return "string";
}

// The accessors take a mutable Config; `config` is a copy made for this.
json typed_value(const ParamSpec& p, Config& config) {
  switch (p.type) {
    case ParamType::Bool:
      return p.as_bool(config);
    case ParamType::Int:
      return p.as_int(config);
    case ParamType::Float:
      return p.as_float(config);
    case ParamType::String:
      return p.as_string(config);
    case ParamType::StringList:
      return p.as_list(config);
    case ParamType::Choice: {
      const int i = p.choice->get(config);
      const auto& names = p.choice->names;
      return i >= 0 && static_cast<std::size_t>(i) < names.size() ? json(names[i]) : json(i);
    }
  }
  return nullptr;
}

json row_json(const ParamSpec& p, Config& view, Config& defaults, bool pending) {
  json row = {{"key", p.key},
              {"section", p.key.substr(0, p.key.find('.'))},
              {"type", type_name(p.type)},
              {"apply", p.apply == Apply::Live ? "live" : "restart"},
              {"value", typed_value(p, view)},
              {"default", typed_value(p, defaults)},
              {"allowed", p.allowed_text()},
              {"help", p.help},
              {"pending", pending}};
  if (p.type == ParamType::Int || p.type == ParamType::Float) {
    row["min"] = p.min;
    row["max"] = p.max;
  }
  if (p.choice) row["choices"] = p.choice->names;
  return row;
}

std::string dump(const json& j) {
  // Config text may hold any bytes a file held: invalid UTF-8 becomes U+FFFD, never an exception.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string param_json(std::string_view key, const ParamEditor& editor) {
  const ParamSpec* p = find_param(key);
  if (!p) return {};
  Config view = editor.view();
  Config defaults = default_config();
  return dump(row_json(*p, view, defaults, editor.pending_restart().contains(p->key)));
}

std::string params_json(const ParamEditor& editor) {
  const std::uint64_t version = editor.version();  // read first: the rows are at least this new
  Config view = editor.view();
  Config defaults = default_config();
  const auto pending = editor.pending_restart();
  json rows = json::array();
  for (const ParamSpec& p : param_table())
    rows.push_back(row_json(p, view, defaults, pending.contains(p.key)));
  return dump(json{{"params", rows}, {"pending_restart", pending}, {"config_version", version}});
}

}  // namespace dw::remote
