#include "comfy/json_limits.h"

#include <fmt/format.h>

#include <vector>

#include "comfy/http.h"
#include "comfy/protocol.h"
#include "core/text.h"

namespace dw::comfy {
namespace {

using nlohmann::json;

// nlohmann's SAX interface, building the value as the parser's own DOM builder does, with the
// depth and the number of values checked at every event: returning false stops the parser at once.
class LimitedBuilder : public nlohmann::json_sax<json> {
 public:
  explicit LimitedBuilder(const JsonLimits& limits) : limits_(limits) {}

  bool null() override { return add(nullptr); }
  bool boolean(bool v) override { return add(v); }
  bool number_integer(number_integer_t v) override { return add(v); }
  bool number_unsigned(number_unsigned_t v) override { return add(v); }
  bool number_float(number_float_t v, const string_t&) override { return add(v); }
  bool string(string_t& v) override { return add(std::move(v)); }
  bool binary(binary_t&) override { return refuse("binary values are not JSON"); }

  bool start_object(std::size_t) override { return open(json::object()); }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_array() override { return close(); }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    // nlohmann's text: "[json.exception.parse_error.101] parse error at line 1, column 13: syntax
    // error while parsing value - unexpected ','; ...": the part after " - " names the token (the
    // server's bytes, made printable).
    std::string_view detail = e.what();
    if (const auto dash = detail.find(" - "); dash != std::string_view::npos)
      detail.remove_prefix(dash + 3);
    return refuse(
        fmt::format("is not valid JSON at byte {}: {}", position, printable_text(detail, 160)));
  }

  json result() { return std::move(root_); }
  const std::string& error() const { return error_; }

 private:
  bool refuse(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }
  bool count() {
    if (++elements_ <= limits_.max_elements) return true;
    return refuse(
        fmt::format("holds more than {} values (the JSON element limit)", limits_.max_elements));
  }
  // Places `v` where the parser is: the root, the next array element, or the current key.
  json* place(json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.get_ref<json::array_t&>().push_back(std::move(v));
      return &parent.get_ref<json::array_t&>().back();
    }
    json& slot = parent.get_ref<json::object_t&>()[key_];
    slot = std::move(v);
    return &slot;
  }
  template <class T>
  bool add(T&& v) {
    if (!count()) return false;
    place(json(std::forward<T>(v)));
    return true;
  }
  bool open(json&& empty) {
    if (!count()) return false;
    if (stack_.size() >= limits_.max_depth)
      return refuse(
          fmt::format("nests deeper than {} levels (the JSON depth limit)", limits_.max_depth));
    // The parent's storage does not move while this child is open (only its last element is
    // written to), so the pointer stays valid until close().
    stack_.push_back(place(std::move(empty)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  const JsonLimits& limits_;
  json root_;
  std::vector<json*> stack_;
  std::string key_;
  std::size_t elements_ = 0;
  std::string error_;
};

}  // namespace

std::optional<json> parse_limited_json(std::string_view text, const JsonLimits& limits,
                                       std::string* why) {
  if (text.size() > limits.max_bytes) {
    if (why)
      *why = fmt::format("is {} bytes, more than the limit of {} bytes for JSON", text.size(),
                         limits.max_bytes);
    return std::nullopt;
  }
  LimitedBuilder builder(limits);
  const bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                                  /*strict=*/true, /*ignore_comments=*/false);
  // A refused value is dropped here; it is never deeper than the limit.
  if (ok) return builder.result();
  if (why) *why = builder.error().empty() ? std::string("is not valid JSON") : builder.error();
  return std::nullopt;
}

json parse_server_json(std::string_view text, const std::string& what, const JsonLimits& limits) {
  std::string why;
  auto j = parse_limited_json(text, limits, &why);
  if (j) return std::move(*j);
  if (why.rfind("is not valid JSON", 0) == 0)  // show what the server sent instead
    throw ServerError(fmt::format("{}: the answer is not JSON: {}", printable_text(what, 200),
                                  printable_text(text, 80)),
                      false);
  // No ComfyUI sends this: the server is treated like a broken connection (unavailable; `auto`
  // covers for it) rather than as one failed request.
  throw TransportError(fmt::format("{}: the answer {}", printable_text(what, 200), why));
}

}  // namespace dw::comfy
