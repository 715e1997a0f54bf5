// The parts of an HTTP request the web remote interprets itself, as pure functions (fuzzed in
// tests/fuzz/http_request_fuzz.cpp): which endpoint a method and path name, a parameter key or
// action name in a path, the bearer token of an Authorization header, and the value of a
// PUT /api/params/{key} body. cpp-httplib parses the HTTP framing; nothing here trusts its input.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dw::remote {

enum class Endpoint {
  None,     // see Route::status
  Page,     // GET /            the web page
  Metrics,  // GET /metrics     Prometheus text
  Status,   // GET /api/status  the metrics table as JSON
  Events,   // GET /api/events  server-sent status
  Params,   // GET /api/params
  Param,    // GET|PUT /api/params/{key}
  Actions,  // GET /api/actions
  Action,   // POST /api/actions/{name}
};

struct Route {
  Endpoint endpoint = Endpoint::None;
  std::string arg;    // the key or action name
  int status = 200;   // 404 no such path, 405 wrong method (then `allow` says which)
  std::string allow;  // "GET", "GET, PUT", "POST"
  std::string error;  // why, for the JSON error body
};

// `path` is decoded already (no query). HEAD is taken as GET.
Route route_request(std::string_view method, std::string_view path);

// "section.key": lower-case letters, digits and '_' in each part, at most 80 characters.
bool valid_param_key(std::string_view key);
// "next_theme": lower-case letters, digits and '_', at most 64 characters.
bool valid_action_name(std::string_view name);

// The token of "Bearer <token>" (scheme case-insensitive, spaces around trimmed); nothing when
// the header is another scheme, empty, or the token has characters a token cannot have.
std::optional<std::string> bearer_token(std::string_view header);
// Compares in time that depends only on `expected`'s length, not on where they differ.
bool tokens_equal(std::string_view given, std::string_view expected);

struct BodyValue {
  bool ok = false;
  std::string text;   // the value as the config file's text ("1.5", "true", "a,b")
  std::string error;  // what is wrong with the body
};

// A PUT body: JSON {"value": V} (V a string, number, boolean or an array of those) when the
// content type is JSON or the body starts with '{'; else the plain text itself (trimmed).
BodyValue parse_value_body(std::string_view body, std::string_view content_type);

// Whether JSON text nests at most `max_depth` arrays/objects (checked before parsing).
bool json_depth_within(std::string_view text, std::size_t max_depth);

}  // namespace dw::remote

namespace dw::remote {

// Browser protections for a remote without a token (loopback): a request that changes something
// must not come from another site's page (its Origin header, when present, names this server),
// and the Host header must name this machine, so a site that rebinds its DNS name to 127.0.0.1
// cannot reach the API. `host` and `origin` are the headers as sent (either may be empty).
bool origin_matches_host(std::string_view origin, std::string_view host);
bool loopback_host(std::string_view host);

}  // namespace dw::remote
