// libFuzzer harness: a server's error messages (POST /prompt's 400 answer as raw text and as
// parsed node_errors, execution_error, execution_interrupted), as the client turns them into text
// for the log, status.json and the overlay. Whatever the bytes, the text is valid UTF-8 without
// control characters and of bounded length. (Workflow::check against a fuzzed /object_info is
// left out: workflow.cpp captures structured bindings in lambdas, which Debian 12's clang 14
// cannot compile.)
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "comfy/json_limits.h"
#include "comfy/protocol.h"
#include "core/text.h"

namespace {

void check_text(const std::string& text, std::size_t max_bytes) {
  if (!dw::is_valid_utf8(text) || text.size() > max_bytes) __builtin_trap();
  for (const char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto j = dw::comfy::parse_limited_json(text, dw::comfy::kAnswerLimits);
  check_text(dw::comfy::describe_prompt_answer(text), 8192);
  if (!j) return 0;
  check_text(dw::comfy::describe_prompt_error(*j), 8192);
  check_text(dw::comfy::describe_execution_error(*j), 2048);
  check_text(dw::comfy::describe_interrupted(*j), 2048);
  return 0;
}
