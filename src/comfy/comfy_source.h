// The ComfyUI keyframe source: keyframe k+1 = img2img(keyframe k) on the user's server(s).
//
// Three rooms:
// - comfy_server.*: one ComfyServer per URL, a supervisor thread that probes /system_stats,
//   validates the workflow against /object_info, holds the WebSocket and turns its messages into
//   per-prompt state; it says whether the server is healthy and delivering.
// - job_queue.*: the requests by keyframe index, retries with backoff and jitter, the results.
// - prompt_run.*: one request on one server (upload, prompt, wait, outputs).
// This file holds the lanes: `in_flight` threads per server, each with its own libcurl handle and
// input file name, taking requests from the one queue while their server is usable. A failed
// request goes back to the queue (never dropped); every wait honours the stop token; stop()
// removes our queued prompts from the servers and interrupts the one running if it is ours.
//
// Time as ComfyUI spends it: a prompt waiting in the server's queue (behind our own or another
// client's) is never timed out; a running prompt is judged by its signs of life (execution_start,
// `executing` of a node, `progress`, `executed`, an image frame) and interrupted only after
// comfy.stall_timeout_s without one (twice that until the server delivered once since it came up:
// the first prompt loads the model silently). A server that delivered nothing for the stall limit
// while ours waited is degraded: healthy() turns false, so `auto` covers with the offline source.
//
// Lock order: the locks are JobQueue's, each ComfyServer::mutex, RecentPngs' and StatsBoard's.
// No thread holds two of them at once (each is taken, used and released; callbacks and network
// calls run with none held), so there is no order to get wrong. Keep it so.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "comfy/workflow.h"
#include "core/config.h"
#include "core/image.h"
#include "pipeline/keyframe_source.h"

namespace dw::comfy {

class ComfyServer;
class HttpClient;
class JobQueue;
class RecentPngs;
struct StatsBoard;
struct Job;

struct ComfySourceOptions {
  std::vector<std::string> urls;
  std::string workflow = "sd15_img2img";  // template name or path
  std::vector<std::string> bindings;
  WorkflowValues defaults;  // everything but the image, prompts and seed of a request
  // When set, read at each request instead of `defaults` (the overlay's live edits of steps, cfg,
  // denoise, sampler, scheduler and checkpoint); width and height stay those of `defaults`.
  std::function<WorkflowValues()> live_values;
  int in_flight = 2;                // lanes per server
  double request_timeout_s = 60.0;  // the longest wait for one HTTP answer (upload, /prompt...)
  // A running prompt with no sign of life this long is interrupted and retried (twice this for a
  // server's first prompt, which loads the model silently).
  double stall_timeout_s = 120.0;
  double connect_timeout_s = 3.0;
  // A WebSocket silent this long, pings included (one goes out after 5 s of silence), is a
  // server that does not run (stopped, swapping, its event loop blocked): it is reconnected, and
  // when that fails too the server is unavailable and `auto` covers for it.
  double silent_socket_s = 20.0;
  double retry_base_s = 0.25;
  double retry_max_s = 30.0;
  // Caps on what the server sends, checked before a decoder sees a byte.
  ImageLimits image_limits{32u << 20, 8192, 8192};
  std::size_t max_message_bytes = 64u << 20;
  // The base of the lanes' input file names on the server (stable per client install, so that
  // runs overwrite their own files instead of adding new ones); empty: one of this run's own.
  std::string upload_prefix;
};

// "dreamwindow-<install>-s<slot>": the same for every run of this user on this machine, with a
// slot held (flock) by one running instance at a time so that two instances never share a file.
std::string stable_upload_prefix();
// <install>: 8 hex digits from a random token made once and kept in
// $XDG_STATE_HOME/dreamwindow/install-id, the machine id and the user. Not the host name: kiosk
// PCs cloned from one image share host name and uid, and two displays on one server overwrote
// each other's input pictures (one went on with the other's feedback loop); a container's host
// name changes with every redeploy, which left a new set of files on the server each time.
std::string comfy_install_id();

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
  std::uint64_t stalls = 0;            // running prompts interrupted after comfy.stall_timeout_s
  std::uint64_t lost = 0;              // prompt or image gone with a restart or a dropped socket
  std::uint64_t uploads_reused = 0;    // inputs sent as the server's own PNG bytes, not re-encoded
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  int progress_value = 0;  // the sampling node's progress of the prompt running now
  int progress_max = 0;
  WorkflowValues settings;  // what the prompts are generated with now
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
  std::size_t pending() const override;
  // Lanes per server x usable servers (x 1 while none is: one request waits for the first).
  std::size_t capacity() const override;
  // Some server is reachable and delivering.
  bool healthy() const override;
  bool came_up() const override;
  void cancel(std::uint64_t index) override;
  // A request a server has taken (queued or running there) finishes and is delivered; any other
  // (waiting for a lane, or its input or prompt still being sent) is cancelled. A released
  // request that fails is not retried.
  bool release(std::uint64_t index) override;
  pipeline::SourceHealth health() const override;

  ComfyStats stats() const;
  // Stops every thread (each within one wait interval or libcurl progress tick), then removes
  // our queued prompts from the servers and interrupts ours if it is running. Idempotent.
  void stop();

 private:
  void run_lane(ComfyServer& server, int lane, std::stop_token stop);
  bool run_one(ComfyServer& server, HttpClient& http, const std::string& upload_name,
               std::shared_ptr<Job> job, std::stop_token stop);
  WorkflowValues current_values() const;

  ComfySourceOptions options_;
  Workflow workflow_;
  std::unique_ptr<StatsBoard> board_;
  std::unique_ptr<JobQueue> jobs_;
  std::unique_ptr<RecentPngs> pngs_;
  std::vector<std::unique_ptr<ComfyServer>> servers_;
  std::vector<std::jthread> lanes_;
};

}  // namespace dw::comfy
