// The ComfyUI keyframe source: keyframe k+1 = img2img(keyframe k) on the user's server(s).
//
// Threads, per server: a supervisor (std::jthread) that probes /system_stats, validates the
// workflow against /object_info, then holds the WebSocket and turns its messages into per-prompt
// state; and `in_flight` lanes (std::jthreads), each with its own libcurl handle, that take a
// request, upload its input (one file name per lane, overwritten), queue the prompt with our own
// prompt id, wait for `executing` node=null (or poll /history when the socket is quiet), fetch the
// outputs and decode them. Lanes of all servers take from one queue, so requests spread over the
// healthy servers; a lane of an unhealthy server takes nothing until its supervisor reconnects.
//
// A failed request is put back (same index, same input) with exponential backoff and jitter, never
// dropped; every wait honours the stop token. stop() removes our queued prompts from the servers
// and interrupts the one running, if it is ours.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "comfy/workflow.h"
#include "core/bounded_queue.h"
#include "core/config.h"
#include "core/image.h"
#include "pipeline/keyframe_source.h"

namespace dw::comfy {

class HttpClient;
struct WsMessage;

struct ComfySourceOptions {
  std::vector<std::string> urls;
  std::string workflow = "sd15_img2img";  // template name or path
  std::vector<std::string> bindings;
  WorkflowValues defaults;  // everything but the image, prompts and seed of a request
  // When set, read at each request instead of `defaults` (the overlay's live edits of steps, cfg,
  // denoise, sampler, scheduler and checkpoint); width and height stay those of `defaults`.
  std::function<WorkflowValues()> live_values;
  int in_flight = 2;  // lanes per server
  double request_timeout_s = 60.0;
  double connect_timeout_s = 3.0;
  double retry_base_s = 0.25;
  double retry_max_s = 30.0;
  // Caps on what the server sends, checked before a decoder sees a byte.
  ImageLimits image_limits{32u << 20, 8192, 8192};
  std::size_t max_message_bytes = 64u << 20;
};

// The restart settings of comfy.*. Throws dw::InputError for a bad URL.
ComfySourceOptions options_from_config(const ComfyConfig& config);
// The sampler settings of comfy.* (size rounded to a multiple of 8).
WorkflowValues workflow_values_from(const ComfyConfig& config);

// One server's line (url, healthy, keyframes, errors, last error): the pipeline's own record.
using ComfyServerStats = pipeline::ServerHealth;

struct ComfyStats {
  std::uint64_t keyframes = 0;         // delivered
  std::uint64_t failed_attempts = 0;   // each one re-requested
  std::uint64_t transport_errors = 0;  // unreachable, connection lost, HTTP timeout
  std::uint64_t server_errors = 0;     // 400 node_errors, execution_error, interrupted, 5xx
  std::uint64_t timeouts = 0;          // no result within comfy.request_timeout_s
  std::uint64_t lost = 0;              // prompt or image gone with a restart or a dropped socket
  std::uint64_t uploads_reused = 0;    // inputs sent as the server's own PNG bytes, not re-encoded
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  int progress_value = 0;  // the latest sampler progress event
  int progress_max = 0;
  std::string last_error;
  std::vector<ComfyServerStats> servers;
};

class ComfyKeyframeSource final : public pipeline::KeyframeSource {
 public:
  // Loads the workflow (dw::InputError when it is unusable) and starts the threads.
  explicit ComfyKeyframeSource(ComfySourceOptions options);
  ~ComfyKeyframeSource() override;

  std::string name() const override;
  bool submit(pipeline::KeyframeRequest request) override;
  std::optional<pipeline::Keyframe> next(std::stop_token stop,
                                         std::chrono::milliseconds timeout) override;
  std::size_t pending() const override { return pending_.load(); }
  // Lanes per server x healthy servers (x 1 while none is: one request waits for the first).
  std::size_t capacity() const override;
  bool healthy() const override;
  void cancel(std::uint64_t index) override;
  pipeline::SourceHealth health() const override;

  ComfyStats stats() const;
  // Stops every thread (each within one wait interval or libcurl progress tick), then removes
  // our queued prompts from the servers and interrupts ours if it is running. Idempotent.
  void stop();

  struct Job;
  struct Server;
  struct Tracked;

 private:
  void supervise(Server& server, std::stop_token stop);
  void run_lane(Server& server, int lane, std::stop_token stop);
  pipeline::Keyframe run_job(Server& server, HttpClient& http, const std::string& upload_name,
                             const Job& job, std::stop_token stop);
  void on_message(Server& server, WsMessage& message);
  std::shared_ptr<Job> take_job(std::stop_token stop, std::chrono::milliseconds max_wait);
  void retry_later(std::shared_ptr<Job> job);
  void enqueue_locked(std::shared_ptr<Job> job);  // by index; jobs_mutex_ held
  void deliver(std::shared_ptr<Job> job, pipeline::Keyframe keyframe, std::stop_token stop);
  void record_error(Server& server, const std::string& message, std::uint64_t ComfyStats::*counter);
  void set_healthy(Server& server, bool healthy, bool quiet = false);
  void clean_up_server(Server& server);
  std::chrono::milliseconds backoff(int attempt);
  WorkflowValues current_values() const;
  // The PNG bytes a recent keyframe arrived as, when `image` is that keyframe pixel for pixel.
  std::optional<std::string_view> recent_png(const Image& image,
                                             std::shared_ptr<const std::string>& hold);
  void remember_png(const Image& image, std::shared_ptr<const std::string> bytes,
                    std::size_t offset);

  ComfySourceOptions options_;
  Workflow workflow_;
  std::vector<std::unique_ptr<Server>> servers_;

  mutable std::mutex jobs_mutex_;
  std::condition_variable_any jobs_cv_;
  std::deque<std::shared_ptr<Job>> queue_;              // by index: waiting for a lane
  std::map<std::uint64_t, std::shared_ptr<Job>> live_;  // submitted, not yet delivered
  std::size_t capacity_;
  BoundedQueue<pipeline::Keyframe> results_;
  std::atomic<std::size_t> pending_{0};

  // Keyframe k is usually the input of keyframe k+1: its PNG goes back to the server as it came.
  struct RecentPng {
    Image image;
    std::shared_ptr<const std::string> bytes;
    std::size_t offset = 0;
  };
  std::mutex png_mutex_;
  std::deque<RecentPng> recent_pngs_;

  mutable std::mutex stats_mutex_;
  ComfyStats stats_;
  bool stopped_ = false;
};

}  // namespace dw::comfy
