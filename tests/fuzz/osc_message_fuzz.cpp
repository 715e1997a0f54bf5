// libFuzzer harness: the bytes of one OSC datagram as the OSC server handles them (bundles
// unpacked, each message decoded by liblo's lo_message_deserialise, its address parsed and its
// arguments turned into config text, then carried out on a real ParamEditor and ActionTable).
// Whatever the bytes: nothing crashes, every outcome's address and message are valid UTF-8
// without control characters and of bounded length, no more outcomes than the bytes allow, and
// no more reply bytes than the datagram's but for one bounded answer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/text.h"
#include "remote/osc_message.h"

namespace {

void check_text(const std::string& text, std::size_t max_bytes) {
  if (!dw::is_valid_utf8(text) || text.size() > max_bytes) __builtin_trap();
  for (const char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) __builtin_trap();
}

struct Target {
  dw::ConfigStore store{dw::default_config()};
  dw::ParamEditor editor{store, "/nonexistent/dreamwindow-osc-fuzz.toml"};
  dw::ActionTable actions;
  dw::remote::OscDispatcher dispatcher{editor, actions};
  Target() {
    actions.add("noop", "does nothing", [] { return dw::ActionResult{true, "done"}; });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Target target;
  const auto outcomes = target.dispatcher.handle_packet(data, size);
  // Each message takes at least 8 bytes (a 4-byte address and a 4-byte type tag string); a
  // bundle element at least 4 more. Anything else is one error outcome for the packet.
  if (outcomes.size() > size / 4 + 1) __builtin_trap();
  for (const auto& o : outcomes) {
    check_text(o.path, 1024);
    check_text(o.message, 2048);
  }
  // The replies add up to no more than the datagram, but for a first answer to one of ours.
  const auto replies = dw::remote::osc_replies(outcomes, size);
  std::size_t total = 0;
  for (const auto& r : replies.datagrams) total += r.size();
  const std::size_t first = replies.datagrams.empty() ? 0 : replies.datagrams.front().size();
  if (total > std::max(size, first) || first > 1024) __builtin_trap();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = dw::remote::parse_osc_address(text);
  if (parsed.index() == 1) check_text(std::get<1>(parsed), 2048);
  return 0;
}
