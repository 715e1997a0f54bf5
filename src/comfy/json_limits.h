// Every JSON document that comes from the network is parsed here, within limits checked while it
// is parsed: its size in bytes, how deep it nests and how many values it holds. A server that
// answers with JSON nested 100000 levels deep (the recursive copy and destruction of such a value
// overflow the stack) or with a "bomb" of millions of tiny values inside the byte cap (each costs
// tens of bytes once parsed) is refused with an error naming the limit before it costs anything.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace dw::comfy {

struct JsonLimits {
  std::size_t max_bytes;
  std::size_t max_depth;     // nested arrays/objects; a scalar at the top is depth 0
  std::size_t max_elements;  // values of every kind, keys not counted
};

// What ComfyUI legitimately sends, with a wide margin. A parsed value costs up to ~80 bytes (an
// empty object is a heap-allocated map), so the element budget, not the byte cap, bounds the
// memory a bomb can take: 200k values ~ 16 MB, 500k ~ 40 MB (docs/architecture.md, "Defence
// against the server").
// - WebSocket text messages (status, executing, progress, executed ...): a few hundred bytes to a
//   few KB, depth <= 6.
inline constexpr JsonLimits kWsMessageLimits{8u << 20, 64, 200'000};
// - small answers (/prompt incl. its 400 node_errors, /upload/image, /system_stats): a few KB.
inline constexpr JsonLimits kAnswerLimits{16u << 20, 64, 200'000};
// - documents (/object_info/{class}: a combo list of every file in a model folder; the whole
//   /object_info of a large install is several MB at ~1 value per 20 bytes; /history/{id} with
//   the UI workflow inside; /queue with every queued graph).
inline constexpr JsonLimits kDocumentLimits{64u << 20, 64, 500'000};

// Parses `text` within `limits`. Returns nullopt and sets `why` (a sentence naming the limit, or
// the syntax error and its byte offset) when the text is refused.
std::optional<nlohmann::json> parse_limited_json(std::string_view text, const JsonLimits& limits,
                                                 std::string* why = nullptr);

// The same, throwing for an answer the client cannot use: ServerError "<what>: the answer is not
// JSON: <printable excerpt>", or TransportError "<what>: the answer <why>" when it breaks a limit
// (no ComfyUI does: the server counts as unavailable, like a broken connection).
nlohmann::json parse_server_json(std::string_view text, const std::string& what,
                                 const JsonLimits& limits = kAnswerLimits);

}  // namespace dw::comfy
