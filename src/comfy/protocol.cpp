#include "comfy/protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "comfy/json_limits.h"
#include "core/text.h"
#include "vae/safetensors.h"

namespace dw::comfy {

using nlohmann::json;

namespace {

// A field of a server's message as printable text of at most `n` bytes (core/text.h): the
// server's words reach the log, status.json and the overlay.
std::string str(const json& j, const char* key, std::size_t n = 120) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return printable_text(it->get_ref<const std::string&>(), n);
  return printable_text(it->dump(-1, ' ', false, json::error_handler_t::replace), n);
}

// The most node input errors one message lists (a hostile 400 answer can hold millions).
constexpr std::size_t kMaxListedErrors = 12;

}  // namespace

std::string new_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (std::uint64_t{std::random_device{}()} << 32)};
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFull);
}

std::string describe_prompt_error(const json& body) {
  if (!body.is_object()) return "ComfyUI rejected the prompt";
  std::vector<std::string> parts;
  std::size_t unlisted = 0;
  if (const auto nodes = body.find("node_errors"); nodes != body.end() && nodes->is_object()) {
    for (const auto& [id, ne] : nodes->items()) {
      if (!ne.is_object() || !ne.contains("errors") || !ne["errors"].is_array()) continue;
      const std::string cls = str(ne, "class_type", 60);
      for (const auto& e : ne["errors"]) {
        if (parts.size() == kMaxListedErrors) {
          ++unlisted;
          continue;
        }
        std::string input;
        if (e.is_object() && e.contains("extra_info") && e["extra_info"].is_object())
          input = str(e["extra_info"], "input_name", 60);
        std::string detail = str(e, "message");
        if (const std::string d = str(e, "details", 160); !d.empty()) detail += ": " + d;
        parts.push_back(fmt::format("node {} ({}){}: {}", printable_text(id, 40), cls,
                                    input.empty() ? "" : fmt::format(" input '{}'", input),
                                    detail));
      }
    }
  }
  std::string head = "ComfyUI rejected the prompt";
  if (const auto err = body.find("error"); err != body.end() && err->is_object()) {
    head += fmt::format(" ({}: {}", str(*err, "type", 60), str(*err, "message"));
    if (const std::string d = str(*err, "details"); !d.empty()) head += ", " + d;
    head += ")";
  }
  if (parts.empty()) return head;
  if (unlisted > 0) parts.push_back(fmt::format("and {} more", unlisted));
  return fmt::format("{}: {}", head, fmt::join(parts, "; "));
}

std::string describe_prompt_answer(std::string_view body) {
  std::string why;
  const auto j = parse_limited_json(body, kAnswerLimits, &why);
  if (j) return describe_prompt_error(*j);
  if (why.rfind("is not valid JSON", 0) == 0)
    return fmt::format("ComfyUI rejected the prompt: {}", printable_text(body, 160));
  return fmt::format("ComfyUI rejected the prompt (its answer {})", why);
}

std::string describe_execution_error(const json& data) {
  return fmt::format("ComfyUI failed in node {} ({}): {}: {}", str(data, "node_id"),
                     str(data, "node_type"), str(data, "exception_type"),
                     str(data, "exception_message", 240));
}

std::string describe_interrupted(const json& data) {
  return fmt::format("ComfyUI interrupted the prompt in node {} ({})", str(data, "node_id"),
                     str(data, "node_type"));
}

bool is_safe_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  if (name.find("..") != std::string_view::npos) return false;
  for (const char c : name)
    if (c == '/' || c == '\\' || c == ':' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

bool is_safe_subfolder(std::string_view subfolder) {
  if (subfolder.empty()) return true;
  if (subfolder.size() > 1024) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = subfolder.find('/', start);
    if (!is_safe_name(
            subfolder.substr(start, slash == std::string_view::npos ? slash : slash - start)))
      return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::optional<std::string_view> binary_frame_image(std::string_view frame) {
  if (frame.size() < 8) return std::nullopt;
  const auto u32 = [&](std::size_t at) {
    const auto* p = reinterpret_cast<const unsigned char*>(frame.data() + at);
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
  };
  if (u32(0) != 1) return std::nullopt;  // 1 = PREVIEW_IMAGE
  const std::uint32_t format = u32(4);   // 1 JPEG, 2 PNG
  if (format != 1 && format != 2) return std::nullopt;
  return frame.substr(8);
}

void keep_frame(std::vector<std::pair<std::string, std::string>>& frames, std::string node,
                std::string frame, std::size_t max_bytes) {
  frames.emplace_back(std::move(node), std::move(frame));
  std::size_t total = 0;
  for (const auto& f : frames) total += f.second.size();
  std::size_t drop = 0;
  while (frames.size() - drop > 1 &&
         (frames.size() - drop > kMaxFramesPerPrompt || total > max_bytes)) {
    total -= frames[drop].second.size();
    ++drop;
  }
  frames.erase(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(drop));
}

vae::HostTensor latent_from_safetensors(std::span<const std::uint8_t> bytes,
                                        const std::string& what) {
  const auto file = vae::SafetensorsFile::from_bytes(bytes, what);
  const vae::TensorEntry* entry = file.find("latent_tensor");
  if (!entry) throw InputError(fmt::format("'{}' has no tensor 'latent_tensor'", what));
  if (entry->shape.size() != 4 || entry->shape[0] < 1 || entry->shape[1] < 1 ||
      entry->shape[2] < 1 || entry->shape[3] < 1 || entry->shape[1] > 64 || entry->shape[0] > 16 ||
      entry->shape[2] > 4096 || entry->shape[3] > 4096)
    throw InputError(fmt::format("'{}': latent_tensor has shape {}, expected [N, C, H, W]", what,
                                 entry->shape_text()));
  vae::Weight w = file.read_f32(*entry);
  vae::HostTensor t(static_cast<int>(entry->shape[0]), static_cast<int>(entry->shape[1]),
                    static_cast<int>(entry->shape[2]), static_cast<int>(entry->shape[3]));
  t.data = std::move(w.data);
  return t;
}

QueuePlace queue_place(const std::string& body, const std::string& pid, const std::string& what) {
  std::string why;
  if (const std::optional<nlohmann::json> queue = parse_limited_json(body, kDocumentLimits, &why)) {
    const auto holds = [&](const char* key) {
      if (!queue->is_object() || !queue->contains(key) || !(*queue)[key].is_array()) return false;
      return std::any_of((*queue)[key].begin(), (*queue)[key].end(), [&](const nlohmann::json& i) {
        return i.is_array() && i.size() > 1 && i[1] == pid;
      });
    };
    if (!queue->is_object() || !queue->contains("queue_running"))
      throw ServerError(what + ": the answer is no queue", false);
    if (holds("queue_running")) return QueuePlace::Running;
    return holds("queue_pending") ? QueuePlace::Waiting : QueuePlace::Absent;
  }
  if (why.find("more than") == std::string::npos)
    parse_server_json(body, what, kDocumentLimits);  // throws, naming what is wrong
  const std::size_t running = body.find("\"queue_running\"");
  const std::size_t pending = body.find("\"queue_pending\"");
  if (running == std::string::npos || pending == std::string::npos)
    throw ServerError(what + ": the answer is no queue", false);
  const std::size_t at = body.find("\"" + pid + "\"");
  if (at == std::string::npos || (running > at && pending > at)) return QueuePlace::Absent;
  const std::size_t key = std::max(running < at ? running : 0, pending < at ? pending : 0);
  return key == running ? QueuePlace::Running : QueuePlace::Waiting;
}

}  // namespace dw::comfy

namespace dw::comfy {

QueueScan::QueueScan(const std::vector<std::string>& pids)
    : patterns_{"\"queue_running\"", "\"queue_pending\""}, found_(pids.size(), -2) {
  for (const std::string& pid : pids) patterns_.push_back("\"" + pid + "\"");
  for (const std::string& p : patterns_) longest_ = std::max(longest_, p.size());
}

void QueueScan::feed(std::string_view piece) {
  std::string window = tail_;
  window.append(piece);
  // Each pattern's occurrences that end past the tail (those inside it were seen with the piece
  // before), in the order they stand in the text.
  std::vector<std::pair<std::size_t, std::size_t>> hits;  // (position, pattern)
  for (std::size_t p = 0; p < patterns_.size(); ++p) {
    const std::string& pattern = patterns_[p];
    for (std::size_t at = window.find(pattern); at != std::string::npos;
         at = window.find(pattern, at + 1))
      if (at + pattern.size() > tail_.size()) hits.emplace_back(at, p);
  }
  std::sort(hits.begin(), hits.end());
  for (const auto& [at, p] : hits) {
    if (p < 2) {
      last_key_ = static_cast<int>(p);
      keys_seen_[p] = true;
    } else if (found_[p - 2] == -2) {
      found_[p - 2] = last_key_;
    }
  }
  const std::size_t keep = std::min(window.size(), longest_ - 1);
  tail_ = window.substr(window.size() - keep);
}

QueuePlace QueueScan::place(std::size_t i, const std::string& what) const {
  if (!keys_seen_[0] || !keys_seen_[1]) throw ServerError(what + ": the answer is no queue", false);
  if (found_[i] == 0) return QueuePlace::Running;
  return found_[i] == 1 ? QueuePlace::Waiting : QueuePlace::Absent;
}

}  // namespace dw::comfy
