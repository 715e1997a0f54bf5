// libFuzzer harness: a server's error messages (POST /prompt's 400 node_errors, execution_error,
// execution_interrupted) and its /object_info against the shipped workflow, as the client turns
// them into text for the log, status.json and the overlay. Whatever the JSON, the text is valid
// UTF-8 without control characters and of bounded length.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "comfy/json_limits.h"
#include "comfy/protocol.h"
#include "comfy/workflow.h"
#include "core/text.h"

namespace {

void check_text(const std::string& text, std::size_t max_bytes) {
  if (!dw::is_valid_utf8(text) || text.size() > max_bytes) __builtin_trap();
  for (const char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const dw::comfy::Workflow workflow = dw::comfy::Workflow::load("sd15_img2img", {});
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto j = dw::comfy::parse_limited_json(text, dw::comfy::kAnswerLimits);
  if (!j) return 0;
  check_text(dw::comfy::describe_prompt_error(*j), 8192);
  check_text(dw::comfy::describe_execution_error(*j), 2048);
  check_text(dw::comfy::describe_interrupted(*j), 2048);
  dw::comfy::WorkflowValues sample;
  sample.checkpoint = "v1-5-pruned-emaonly.safetensors";
  sample.image = sample.positive = sample.negative = "probe";
  try {
    for (const std::string& problem : workflow.check(*j, sample)) check_text(problem, 4096);
  } catch (const nlohmann::json::exception&) {
    // a value of the wrong type where a name was expected: reported as a server error
  }
  return 0;
}
