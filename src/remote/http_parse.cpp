#include "remote/http_parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/params.h"
#include "core/text.h"

namespace dw::remote {
namespace {

constexpr std::string_view kParamsPrefix = "/api/params/";
constexpr std::string_view kActionsPrefix = "/api/actions/";

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

Route allowed(Endpoint e, std::string arg, std::string_view method, std::string_view allow) {
  Route r;
  r.allow = std::string(allow);
  bool ok = false;
  for (std::string_view rest = allow; !rest.empty() && !ok;) {
    const std::size_t comma = rest.find(", ");
    ok = rest.substr(0, comma) == method;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
  }
  if (!ok) {
    r.status = 405;
    r.error = fmt::format("method {} is not allowed here (allowed: {})", printable_text(method, 40),
                          allow);
    return r;
  }
  r.endpoint = e;
  r.arg = std::move(arg);
  return r;
}

Route not_found(std::string error) {
  Route r;
  r.status = 404;
  r.error = std::move(error);
  return r;
}

// A path with a name after `prefix`: the endpoint when the name is well-formed, else 404.
Route named(std::string_view path, std::string_view prefix, std::string_view method, Endpoint e,
            std::string_view allow, bool (*valid)(std::string_view), std::string_view what) {
  const std::string_view name = path.substr(prefix.size());
  if (!valid(name))
    return not_found(fmt::format("'{}' is not a {}", printable_text(name, 80), what));
  return allowed(e, std::string(name), method, allow);
}

std::string number_text(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.dump();
  return fmt::format("{}", v.get<double>());
}

std::optional<std::string> scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return number_text(v);
  return std::nullopt;
}

BodyValue fail(std::string error) {
  return {false, {}, std::move(error)};
}

BodyValue json_value(std::string_view body) {
  if (!json_depth_within(body, 4)) return fail("JSON body nests too deeply");
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) return fail("body is not valid JSON (send {\"value\": ...})");
  if (!doc.is_object() || doc.size() != 1 || !doc.contains("value"))
    return fail("JSON body must be an object with one member, \"value\"");
  const nlohmann::json& v = doc["value"];
  if (auto text = scalar_text(v)) return {true, std::move(*text), {}};
  if (!v.is_array()) return fail("\"value\" must be a string, number, boolean or list");
  std::vector<std::string> items;
  for (const nlohmann::json& item : v) {
    auto text = scalar_text(item);
    if (!text) return fail("a list value may hold only strings, numbers and booleans");
    items.push_back(std::move(*text));
  }
  return {true, list_text(items), {}};  // its items may hold commas
}

}  // namespace

Route route_request(std::string_view method, std::string_view path) {
  if (method == "HEAD") method = "GET";
  if (path == "/" || path == "/index.html") return allowed(Endpoint::Page, {}, method, "GET");
  if (path == "/metrics") return allowed(Endpoint::Metrics, {}, method, "GET");
  if (path == "/api/status") return allowed(Endpoint::Status, {}, method, "GET");
  if (path == "/api/events") return allowed(Endpoint::Events, {}, method, "GET");
  if (path == "/api/params") return allowed(Endpoint::Params, {}, method, "GET");
  if (path == "/api/actions") return allowed(Endpoint::Actions, {}, method, "GET");
  if (path.starts_with(kParamsPrefix))
    return named(path, kParamsPrefix, method, Endpoint::Param, "GET, PUT", valid_param_key,
                 "parameter key");
  if (path.starts_with(kActionsPrefix))
    return named(path, kActionsPrefix, method, Endpoint::Action, "POST", valid_action_name,
                 "action name");
  return not_found(fmt::format("no such path '{}' (see /api/params, /api/actions, /api/status)",
                               printable_text(path, 120)));
}

bool valid_param_key(std::string_view key) {
  const std::size_t dot = key.find('.');
  if (key.size() > 80 || dot == std::string_view::npos || dot == 0 || dot + 1 == key.size())
    return false;
  for (std::size_t i = 0; i < key.size(); ++i)
    if (i != dot && !name_char(key[i])) return false;
  return true;
}

bool valid_action_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), name_char);
}

std::optional<std::string> bearer_token(std::string_view header) {
  header = trim(header);
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() + 1) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (lower(header[i]) != kScheme[i]) return std::nullopt;
  if (header[kScheme.size()] != ' ') return std::nullopt;
  const std::string_view token = trim(header.substr(kScheme.size() + 1));
  if (token.empty() || token.size() > 256) return std::nullopt;
  // RFC 6750 b64token characters.
  const auto token_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
  };
  if (!std::all_of(token.begin(), token.end(), token_char)) return std::nullopt;
  return std::string(token);
}

bool tokens_equal(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned char>(g ^ expected[i]);
  }
  // volatile keeps the compiler from stopping the loop at the first difference.
  volatile unsigned char result = diff;
  return result == 0;
}

BodyValue parse_value_body(std::string_view body, std::string_view content_type) {
  const std::string_view trimmed = trim(body);
  const bool json = content_type.find("json") != std::string_view::npos ||
                    (!trimmed.empty() && trimmed.front() == '{');
  BodyValue value = json ? json_value(trimmed) : BodyValue{true, std::string(trimmed), {}};
  if (!value.ok) return value;
  if (!is_valid_utf8(value.text)) return fail("value is not valid UTF-8 text");
  const bool control = std::any_of(value.text.begin(), value.text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (control) return fail("value contains control characters");
  return value;
}

bool json_depth_within(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

}  // namespace dw::remote

namespace dw::remote {

bool origin_matches_host(std::string_view origin, std::string_view host) {
  if (origin.empty()) return true;  // not sent by a browser for same-origin GETs, nor by curl
  constexpr std::string_view kScheme = "http://";
  if (!origin.starts_with(kScheme)) return false;
  origin.remove_prefix(kScheme.size());
  if (origin.size() != host.size()) return false;
  for (std::size_t i = 0; i < host.size(); ++i)
    if (lower(origin[i]) != lower(host[i])) return false;
  return true;
}

bool loopback_host(std::string_view host) {
  // Without the port: "127.0.0.1:8420" -> "127.0.0.1", "[::1]:8420" -> "[::1]".
  if (host.starts_with('[')) {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(0, close + 1);
  } else if (const std::size_t colon = host.find(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  std::string name;
  for (char c : host) name += lower(c);
  if (name == "localhost" || name == "[::1]") return true;
  if (!name.starts_with("127.")) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

}  // namespace dw::remote
