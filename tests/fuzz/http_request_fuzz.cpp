// libFuzzer harness: what the web remote reads from a request itself (remote/http_parse.h): the
// route of a method and path, the bearer header, the browser checks and a PUT body. The input is
// split at its first two NUL bytes into (method/header, path/host, body). Invariants: nothing
// throws or crashes; a routed endpoint's argument is a well-formed key or name; a parsed body's
// text is valid UTF-8 without control characters; a bearer token compares equal to itself only.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/text.h"
#include "remote/http_parse.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string_view next_part(std::string_view& rest) {
  const std::size_t nul = rest.find('\0');
  const std::string_view part = rest.substr(0, nul);
  rest = nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);
  return part;
}

void check_route(std::string_view method, std::string_view path) {
  using dw::remote::Endpoint;
  const dw::remote::Route r = dw::remote::route_request(method, path);
  if (r.endpoint == Endpoint::Param) check(dw::remote::valid_param_key(r.arg));
  if (r.endpoint == Endpoint::Action) check(dw::remote::valid_action_name(r.arg));
  if (r.endpoint == Endpoint::None) check(r.status == 404 || r.status == 405);
  check(dw::is_valid_utf8(r.error));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view first = next_part(rest);
  const std::string_view second = next_part(rest);
  const std::string_view body = rest;
  check_route(first, second);
  if (const auto token = dw::remote::bearer_token(first)) {
    check(!token->empty() && token->size() <= 256);
    check(dw::remote::tokens_equal(*token, *token));
    check(!dw::remote::tokens_equal(*token + "x", *token));
  }
  (void)dw::remote::origin_matches_host(first, second);
  (void)dw::remote::loopback_host(second);
  for (std::string_view type : {std::string_view("application/json"), std::string_view("")}) {
    const dw::remote::BodyValue v = dw::remote::parse_value_body(body, type);
    if (v.ok) {
      check(dw::is_valid_utf8(v.text));
      for (char c : v.text) check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    } else {
      check(!v.error.empty());
    }
  }
  return 0;
}
