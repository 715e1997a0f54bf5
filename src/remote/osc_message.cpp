#include "remote/osc_message.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/params.h"
#include "core/text.h"

namespace dw::remote {
namespace {

constexpr std::string_view kPrefix = "/dreamwindow/";
constexpr std::size_t kMaxPath = 256;
constexpr int kMaxBundleDepth = 8;

bool plain_word(std::string_view w) {
  if (w.empty() || w.size() > 64) return false;
  for (const char c : w)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string address_error(std::string_view path) {
  return fmt::format(
      "unknown OSC address '{}': expected /dreamwindow/param/<section>/<key> VALUE, "
      "/dreamwindow/get/<section>/<key> or /dreamwindow/action/<name>",
      printable_text(path, 120));
}

std::string type_name(char t) {
  switch (t) {
    case LO_BLOB:
      return "blob";
    case LO_NIL:
      return "nil";
    case LO_INFINITUM:
      return "infinitum";
    case LO_MIDI:
      return "midi";
    case LO_TIMETAG:
      return "timetag";
    default:
      return fmt::format("'{}'", printable_text(std::string_view(&t, 1)));
  }
}

// liblo's argument pointers are only 4-byte aligned (into the message), so values are copied
// out rather than read through the 8-byte-aligned lo_arg union.
template <class T>
T arg_as(const lo_arg* a) {
  T v;
  std::memcpy(&v, a, sizeof v);
  return v;
}

const char* arg_text(const lo_arg* a) {
  return reinterpret_cast<const char*>(a);
}

// A release of a control surface's button: one argument that is 0 or false.
bool is_release(std::string_view types, lo_arg** argv) {
  if (types.size() != 1) return false;
  switch (types[0]) {
    case LO_INT32:
      return arg_as<std::int32_t>(argv[0]) == 0;
    case LO_INT64:
      return arg_as<std::int64_t>(argv[0]) == 0;
    case LO_FLOAT:
      return arg_as<float>(argv[0]) == 0.0f;
    case LO_DOUBLE:
      return arg_as<double>(argv[0]) == 0.0;
    case LO_FALSE:
      return true;
    default:
      return false;
  }
}

// Bundle: "#bundle\0", an 8-byte time tag, then elements, each a big-endian int32 size and bytes.
bool is_bundle(const std::uint8_t* data, std::size_t size) {
  return size >= 16 && std::memcmp(data, "#bundle", 8) == 0;
}

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace

std::variant<OscTarget, std::string> parse_osc_address(std::string_view path) {
  if (path.size() > kMaxPath || !path.starts_with(kPrefix)) return address_error(path);
  const std::vector<std::string_view> parts = split(path.substr(kPrefix.size()), '/');
  for (const std::string_view p : parts)
    if (!plain_word(p)) return address_error(path);
  const std::string_view verb = parts.front();
  if (verb == "action" && parts.size() == 2)
    return OscTarget{OscVerb::Action, std::string(parts[1])};
  if ((verb == "param" || verb == "get") && parts.size() >= 3) {
    std::string key(parts[1]);
    for (std::size_t i = 2; i < parts.size(); ++i) key += "." + std::string(parts[i]);
    return OscTarget{verb == "param" ? OscVerb::Param : OscVerb::Get, std::move(key)};
  }
  return address_error(path);
}

bool osc_args_text(std::string_view types, lo_arg** argv, std::string& out) {
  std::vector<std::string> items;
  for (std::size_t i = 0; i < types.size(); ++i) {
    std::string& text = items.emplace_back();
    const lo_arg* a = argv[i];
    switch (types[i]) {
      case LO_INT32:
        text += fmt::format("{}", arg_as<std::int32_t>(a));
        break;
      case LO_INT64:
        text += fmt::format("{}", arg_as<std::int64_t>(a));
        break;
      case LO_FLOAT:
        text += fmt::format("{}", arg_as<float>(a));
        break;
      case LO_DOUBLE:
        text += fmt::format("{}", arg_as<double>(a));
        break;
      case LO_STRING:
      case LO_SYMBOL:
        text += arg_text(a);
        break;
      case LO_CHAR:
        text += static_cast<char>(arg_as<std::int32_t>(a));
        break;
      case LO_TRUE:
        text += "true";
        break;
      case LO_FALSE:
        text += "false";
        break;
      default:
        out = fmt::format("OSC argument {} is a {}; send an int, float, string or bool", i + 1,
                          type_name(types[i]));
        return false;
    }
  }
  // One argument is the value; several are a list's items (each may hold commas).
  out = items.size() == 1 ? std::move(items.front()) : list_text(items);
  return true;
}

std::vector<std::uint8_t> osc_reply_bytes(const OscOutcome& outcome) {
  const std::unique_ptr<std::remove_pointer_t<lo_message>, void (*)(lo_message)> msg(
      lo_message_new(), lo_message_free);
  lo_message_add_string(msg.get(), outcome.ok ? "ok" : "error");
  lo_message_add_string(msg.get(), outcome.path.c_str());
  lo_message_add_string(msg.get(), outcome.message.c_str());
  std::size_t size = 0;
  void* bytes = lo_message_serialise(msg.get(), kOscReplyPath.data(), nullptr, &size);
  if (bytes == nullptr) return {};
  const auto* begin = static_cast<const std::uint8_t*>(bytes);
  std::vector<std::uint8_t> out(begin, begin + size);
  std::free(bytes);
  return out;
}

OscReplies osc_replies(const std::vector<OscOutcome>& outcomes, std::size_t datagram_size) {
  OscReplies out;
  std::size_t sent = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const OscOutcome& outcome = outcomes[i];
    if (outcome.path.empty()) continue;  // no OSC: nothing to address an answer to
    std::vector<std::uint8_t> reply = osc_reply_bytes(outcome);
    const bool first_of_ours = i == 0 && outcome.path.starts_with(kPrefix);
    // Once one answer is left out the later ones are too, so the replies a bundle gets are
    // always those of its first messages.
    if (reply.empty() || out.left_out > 0 ||
        (sent + reply.size() > datagram_size && !first_of_ours)) {
      ++out.left_out;
      continue;
    }
    sent += reply.size();
    out.datagrams.push_back(std::move(reply));
  }
  return out;
}

OscDispatcher::OscDispatcher(ParamEditor& editor, const ActionTable& actions)
    : editor_(editor), actions_(actions) {}

OscOutcome OscDispatcher::set_param(const std::string& path, const std::string& key,
                                    std::string_view types, lo_arg** argv) {
  if (types.empty()) return {path, false, fmt::format("{} needs a value", key)};
  std::string text;
  if (!osc_args_text(types, argv, text)) return {path, false, text};
  const EditOutcome out = editor_.edit(key, text);
  if (!out.ok) return {path, false, printable_text(out.error, 400)};
  const ParamSpec* p = find_param(key);
  const std::string value = p ? p->value_text(editor_.view()) : text;
  return {path, true,
          fmt::format("{} = {}{}", key, printable_text(value, 200),
                      out.pending_restart ? " (after a restart)" : "")};
}

OscOutcome OscDispatcher::get_param(const std::string& path, const std::string& key) const {
  const ParamSpec* p = find_param(key);
  if (!p) return {path, false, fmt::format("unknown parameter '{}'", key)};
  return {path, true, printable_text(p->value_text(editor_.view()), 400)};
}

OscOutcome OscDispatcher::run_action(const std::string& path, const std::string& name,
                                     std::string_view types, lo_arg** argv) const {
  if (is_release(types, argv)) return {path, true, "ignored: a button release (0)"};
  const ActionResult r = actions_.run(name);
  return {path, r.ok, printable_text(r.message, 400)};
}

OscOutcome OscDispatcher::dispatch(std::string_view path, std::string_view types, lo_arg** argv) {
  auto target = parse_osc_address(path);
  if (target.index() == 1) return {printable_text(path, 120), false, std::get<1>(target)};
  const OscTarget& t = std::get<0>(target);
  const std::string where(path);  // a valid address is plain text
  switch (t.verb) {
    case OscVerb::Param:
      return set_param(where, t.name, types, argv);
    case OscVerb::Get:
      return get_param(where, t.name);
    case OscVerb::Action:
      return run_action(where, t.name, types, argv);
  }
  return {std::string(path), false, "unreachable"};
}

std::vector<OscOutcome> OscDispatcher::handle_packet(const std::uint8_t* data, std::size_t size) {
  std::vector<OscOutcome> out;
  try {
    handle_element(data, size, 0, out);
  } catch (const std::exception& e) {
    out.push_back({"", false, fmt::format("OSC packet not handled: {}", e.what())});
  }
  return out;
}

void OscDispatcher::handle_element(const std::uint8_t* data, std::size_t size, int depth,
                                   std::vector<OscOutcome>& out) {
  if (is_bundle(data, size)) {
    if (depth >= kMaxBundleDepth) {
      out.push_back({"", false, "OSC bundle nested too deep (at most 8 levels)"});
      return;
    }
    for (std::size_t at = 16; at < size;) {
      if (size - at < 4) return out.push_back({"", false, "OSC bundle element cut short"});
      const std::uint32_t n = read_be32(data + at);
      if (n > size - at - 4) return out.push_back({"", false, "OSC bundle element cut short"});
      handle_element(data + at + 4, n, depth + 1, out);
      at += 4 + n;
    }
    return;
  }
  if (size < 4) {
    out.push_back({"", false, fmt::format("not an OSC message ({} bytes)", size)});
    return;
  }
  // liblo validates the whole message (path, type tags, each argument's size) before it decodes.
  std::vector<std::uint8_t> copy(data, data + size);  // its API takes a mutable pointer
  int result = 0;
  const std::unique_ptr<std::remove_pointer_t<lo_message>, void (*)(lo_message)> msg(
      lo_message_deserialise(copy.data(), copy.size(), &result), lo_message_free);
  if (!msg) {
    out.push_back(
        {"", false, fmt::format("not an OSC message ({} bytes; liblo error {})", size, result)});
    return;
  }
  const char* path = lo_get_path(copy.data(), static_cast<ssize_t>(copy.size()));
  const char* types = lo_message_get_types(msg.get());
  out.push_back(dispatch(path ? path : "", types ? types : "", lo_message_get_argv(msg.get())));
}

}  // namespace dw::remote
