// libFuzzer harness: any bytes given to the limited JSON parser (comfy/json_limits.h), as every
// answer and WebSocket message from a server is. It refuses with a reason or returns a value
// within the limits that equals what nlohmann's own parser makes of the same text.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "comfy/json_limits.h"

namespace {

std::size_t depth_and_count(const nlohmann::json& j, std::size_t depth, std::size_t& count) {
  ++count;
  std::size_t deepest = j.is_structured() ? depth + 1 : depth;
  if (j.is_structured())
    for (const auto& child : j)
      deepest = std::max(deepest, depth_and_count(child, depth + 1, count));
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const dw::comfy::JsonLimits limits{1u << 16, 16, 2000};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  const auto j = dw::comfy::parse_limited_json(text, limits, &why);
  if (!j) {
    if (why.empty()) __builtin_trap();
    return 0;
  }
  std::size_t count = 0;
  if (depth_and_count(*j, 0, count) > limits.max_depth || count > limits.max_elements)
    __builtin_trap();
  const auto reference = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (reference.is_discarded() || reference != *j) __builtin_trap();
  return 0;
}
