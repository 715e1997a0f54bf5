// OSC messages to dreamwindow, independent of the socket (remote/osc_server.h receives them):
//   /dreamwindow/param/<section>/<key> value   set a parameter through the ParamEditor (validated
//                                             with the config file's wording; live rows apply at
//                                             once, restart rows are pending)
//   /dreamwindow/get/<section>/<key>           the parameter's current value
//   /dreamwindow/action/<name>                 run an action of the ActionTable; an action with
//                                             one argument that is 0 or false (a control surface's
//                                             button release) is ignored
// Arguments become the config file's text: i h -> integer, f d -> number, s S c -> text,
// T F -> true/false; several arguments are one list ("a,b"). Every message gets one outcome, which
// the server sends back to the sender as /dreamwindow/reply ,sss "ok"|"error" <address> <message>
// as far as osc_replies allows (replies never add up to much more than what was sent).
// The packet bytes are decoded by liblo (lo_message_deserialise); bundles are unpacked here.
#pragma once

#include <lo/lo_lowlevel.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/actions.h"
#include "core/param_editor.h"

namespace dw::remote {

inline constexpr std::string_view kOscReplyPath = "/dreamwindow/reply";

enum class OscVerb { Param, Get, Action };

struct OscTarget {
  OscVerb verb = OscVerb::Param;
  std::string name;  // "display.gamma" (param, get) or "pause" (action)
};

// The address's verb and target, or an error naming the address and the accepted forms.
std::variant<OscTarget, std::string> parse_osc_address(std::string_view path);

// The arguments as the config file's text in `out` (true): one argument is the value, several are
// a list (["a", "b"]: each argument one item); or an error naming the argument and its type
// (false).
bool osc_args_text(std::string_view types, lo_arg** argv, std::string& out);

struct OscOutcome {
  std::string path;  // the address the outcome answers (printable)
  bool ok = false;
  std::string message;  // what happened / the value / what is wrong
};

// /dreamwindow/reply ,sss "ok"|"error" <address> <message>, encoded (empty if liblo cannot).
std::vector<std::uint8_t> osc_reply_bytes(const OscOutcome& outcome);

struct OscReplies {
  std::vector<std::vector<std::uint8_t>> datagrams;  // to send, in order
  std::size_t left_out = 0;                          // answers not sent (see osc_replies)
};

// The replies to the outcomes of one received datagram of `datagram_size` bytes. UDP senders can
// be forged, so the replies add up to no more than the datagram's size: a bundle gets the replies
// to its first messages, in order, as many as fit. One exception: the reply to a datagram's first
// message is always sent when that message was addressed to /dreamwindow/..., so a control
// surface's single set, get or action (TouchOSC shows the reply in a label) is answered in full,
// also when the answer is longer than the question. That bounds a forged sender's gain to one
// reply (at most about 800 bytes) per datagram of at least 20 bytes, against one reply per
// message before (a 64 KiB bundle of 8-byte messages brought back 1.2 MB). Outcomes with no
// address (bytes that are no OSC) are never answered.
OscReplies osc_replies(const std::vector<OscOutcome>& outcomes, std::size_t datagram_size);

class OscDispatcher {
 public:
  OscDispatcher(ParamEditor& editor, const ActionTable& actions);

  // One decoded message.
  OscOutcome dispatch(std::string_view path, std::string_view types, lo_arg** argv);
  // The bytes of one UDP datagram: a message, or a bundle whose elements (nested up to 8 deep)
  // are carried out in order at once (time tags are ignored). Bytes that are no OSC give one
  // error outcome. Never throws.
  std::vector<OscOutcome> handle_packet(const std::uint8_t* data, std::size_t size);

 private:
  void handle_element(const std::uint8_t* data, std::size_t size, int depth,
                      std::vector<OscOutcome>& out);
  OscOutcome set_param(const std::string& path, const std::string& key, std::string_view types,
                       lo_arg** argv);
  OscOutcome get_param(const std::string& path, const std::string& key) const;
  OscOutcome run_action(const std::string& path, const std::string& name, std::string_view types,
                        lo_arg** argv) const;

  ParamEditor& editor_;
  const ActionTable& actions_;
};

}  // namespace dw::remote
