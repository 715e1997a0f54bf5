// One keyframe request on one server: upload the input, queue the prompt under our own id, wait
// for it the way ComfyUI spends time (waiting in its queue is not stalling; a running prompt is
// judged by its signs of life), fetch and decode the outputs.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>

#include "comfy/comfy_server.h"
#include "comfy/job_queue.h"

namespace dw::comfy {

// Keyframe k is usually the input of keyframe k+1: its PNG goes back to the server as it came
// (PNG is lossless, so the server decodes exactly the pixels compared against). Thread-safe.
class RecentPngs {
 public:
  explicit RecentPngs(std::size_t keep) : keep_(keep) {}
  // The PNG bytes a recent keyframe arrived as, when `image` is that keyframe pixel for pixel.
  std::optional<std::string_view> find(const Image& image,
                                       std::shared_ptr<const std::string>& hold);
  void remember(const Image& image, std::shared_ptr<const std::string> bytes, std::size_t offset);

 private:
  struct Entry {
    Image image;
    std::shared_ptr<const std::string> bytes;
    std::size_t offset = 0;
  };
  const std::size_t keep_;
  std::mutex mutex_;
  std::deque<Entry> entries_;
};

// The request was cancelled while its prompt ran (another source delivered it first).
class JobCancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PromptRun {
  ComfyServer& server;
  HttpClient& http;
  const std::string& upload_name;  // this lane's input file on the server, overwritten each time
  const SourceContext& ctx;
  RecentPngs& pngs;
};

// Marks the job accepted once the server has taken its prompt. Throws ServerError (the server
// refused or failed it), TransportError (unreachable, prompt lost with a restart), Cancelled
// (stop, or the job cancelled while its input or prompt was being sent), JobCancelled.
pipeline::Keyframe run_prompt(const PromptRun& run, Job& job, std::stop_token stop);

}  // namespace dw::comfy
