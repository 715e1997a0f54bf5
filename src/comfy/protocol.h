// The pieces of the ComfyUI protocol that are pure functions of bytes: ids, server errors as
// sentences that name node id, class and input, binary WebSocket frames, names from the server,
// and SaveLatent files.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "vae/tensor.h"

namespace dw::comfy {

// The server ran or rejected our graph and reported an error (400 node_errors, execution_error,
// execution_interrupted, an unexpected status): the message is for the user.
class ServerError : public Error {
 public:
  ServerError(std::string message, bool workflow_invalid)
      : Error(std::move(message)), workflow_invalid_(workflow_invalid) {}
  // True when the graph itself was rejected: retrying the same graph cannot help until the
  // workflow or the server's models change.
  bool workflow_invalid() const { return workflow_invalid_; }

 private:
  bool workflow_invalid_;
};

// A canonical lowercase version-4 UUID (our prompt ids and client ids).
std::string new_uuid();

// Where prompt `pid` is in a GET /queue answer: running, waiting, or not there. The answer is
// parsed within kDocumentLimits; one too long for them (someone queued a batch on a shared
// server, each item carrying the web UI's whole workflow: it broke the limit and made the server
// count as unavailable) is searched as text: a prompt id is our own UUID, and the array holding
// it is the one whose key comes last before it. Throws ServerError for an answer that is no
// queue, TransportError for one that breaks another limit (depth).
enum class QueuePlace { Running, Waiting, Absent };
QueuePlace queue_place(const std::string& body, const std::string& pid, const std::string& what);

// queue_place's search as text, over a GET /queue answer fed piece by piece and never kept whole:
// a shared server's queue (a batch, each prompt carrying the web UI's workflow) can be longer than
// any answer the client takes, and each look at it then failed as a transport error.
class QueueScan {
 public:
  explicit QueueScan(const std::vector<std::string>& pids);
  void feed(std::string_view piece);
  // Where pids[i] was; throws ServerError when the answer held no queue.
  QueuePlace place(std::size_t i, const std::string& what) const;

 private:
  std::vector<std::string> patterns_;  // "queue_running" and "queue_pending" keys, then each pid
  std::size_t longest_ = 0;
  std::string tail_;   // the last longest_ - 1 bytes fed: a pattern may straddle two pieces
  int last_key_ = -1;  // 0 running, 1 pending: the last key seen
  bool keys_seen_[2] = {false, false};
  std::vector<int> found_;  // per pid: the key before its first occurrence (-1 none, -2 not seen)
};

// POST /prompt's 400 answer as one sentence per node input:
// "node 4 (CheckpointLoaderSimple) input 'ckpt_name': Value not in list: ...".
std::string describe_prompt_error(const nlohmann::json& body);
// The same from the answer's raw text, parsed within kAnswerLimits: an answer that is not JSON or
// breaks the limits still gives a sentence ("... (the answer nests deeper than 64 levels ...)").
std::string describe_prompt_answer(std::string_view body);
// execution_error / execution_interrupted data.
std::string describe_execution_error(const nlohmann::json& data);
std::string describe_interrupted(const nlohmann::json& data);

// A file or folder name the server gave us that we pass back to it (upload name, /view
// filename): non-empty, at most 255 bytes, no path separators, no "..", no control characters.
bool is_safe_name(std::string_view name);
// A subfolder: empty, or safe names joined by '/'.
bool is_safe_subfolder(std::string_view subfolder);

// The image inside a binary WebSocket frame (event 1, preview image: u32 type, u32 format, bytes),
// or nothing for other events.
std::optional<std::string_view> binary_frame_image(std::string_view frame);

// Keeps `frame` (a binary WebSocket message sent while `node` executed) among the frames held for
// one prompt, oldest first, dropping the oldest ones while more than kMaxFramesPerPrompt are held
// or they hold more than `max_bytes` together (the newest always stays): a server that floods a
// prompt with image frames costs at most one message cap of memory per prompt.
inline constexpr std::size_t kMaxFramesPerPrompt = 8;
void keep_frame(std::vector<std::pair<std::string, std::string>>& frames, std::string node,
                std::string frame, std::size_t max_bytes);

// SaveLatent's file: the tensor "latent_tensor" [N, C, H, W] as fp32. Throws dw::InputError.
vae::HostTensor latent_from_safetensors(std::span<const std::uint8_t> bytes,
                                        const std::string& what);

}  // namespace dw::comfy
